import Formats
import Foundation

/// The formats `zoo convert` writes, with the file names transformers gives them.
public enum OutputFormat: String, CaseIterable, Sendable {
    case safetensors
    case pytorch

    var writer: any CheckpointWriter.Type {
        switch self {
        case .safetensors: SafetensorsWriter.self
        case .pytorch: TorchZipWriter.self
        }
    }

    /// The extension of a single-file output (`model.safetensors`, `pytorch_model.bin`).
    public var fileExtension: String {
        switch self {
        case .safetensors: "safetensors"
        case .pytorch: "bin"
        }
    }

    /// The file name of an unsharded model directory's weights.
    public var singleFileName: String {
        switch self {
        case .safetensors: "model.safetensors"
        case .pytorch: "pytorch_model.bin"
        }
    }

    public var indexFileName: String {
        switch self {
        case .safetensors: ShardedSafetensors.indexFileName
        case .pytorch: ShardedTorch.indexFileName
        }
    }

    public func shardFileName(_ number: Int, of count: Int) -> String {
        switch self {
        case .safetensors: ShardedSafetensors.shardFileName(number, of: count)
        case .pytorch: ShardedTorch.shardFileName(number, of: count)
        }
    }

    /// The format a destination's extension names (`x.safetensors`, `x.bin`, and the same with
    /// `.zst`), if any.
    public static func named(byExtensionOf url: URL) -> OutputFormat? {
        let plain = url.pathExtension == "zst" ? url.deletingPathExtension() : url
        return allCases.first { $0.fileExtension == plain.pathExtension }
    }
}
