import Formats
import Foundation

/// The formats `zoo convert` writes, with the file names transformers gives them.
public enum OutputFormat: String, CaseIterable, Sendable {
    case safetensors
    case pytorch
    /// A Mesh-TF TensorFlow checkpoint directory (`model.ckpt.index`, data shards, `checkpoint`,
    /// `operative_config.gin`), written by `TensorBundle.write` rather than a per-file writer.
    case tensorflow = "tf"
    /// A llama.cpp GGUF file (architecture `t5`, tokenizer inside), always one file: llama.cpp's
    /// split files (`gguf-split`) are not written.
    case gguf

    /// The writer of one weights file (`nil` for TensorFlow, whose bundle is written whole, and
    /// GGUF, whose typed metadata the string-keyed `CheckpointWriter` interface cannot carry).
    var writer: (any CheckpointWriter.Type)? {
        switch self {
        case .safetensors: SafetensorsWriter.self
        case .pytorch: TorchZipWriter.self
        case .tensorflow, .gguf: nil
        }
    }

    /// The extension of a single-file output (`model.safetensors`, `pytorch_model.bin`); a
    /// TensorFlow checkpoint is always a directory.
    public var fileExtension: String? {
        switch self {
        case .safetensors: "safetensors"
        case .pytorch: "bin"
        case .tensorflow: nil
        case .gguf: "gguf"
        }
    }

    /// The file name of an unsharded model directory's weights (the prefix, for TensorFlow).
    public var singleFileName: String {
        switch self {
        case .safetensors: "model.safetensors"
        case .pytorch: "pytorch_model.bin"
        case .tensorflow: Self.tensorFlowPrefix
        case .gguf: "model.gguf"
        }
    }

    /// The index of a sharded output (GGUF is never sharded).
    var indexFileName: String {
        switch self {
        case .safetensors: ShardedSafetensors.indexFileName
        case .pytorch: ShardedTorch.indexFileName
        case .tensorflow: Self.tensorFlowPrefix + ".index"
        case .gguf: preconditionFailure("GGUF outputs are never sharded")
        }
    }

    func shardFileName(_ number: Int, of count: Int) -> String {
        switch self {
        case .safetensors: ShardedSafetensors.shardFileName(number, of: count)
        case .pytorch: ShardedTorch.shardFileName(number, of: count)
        case .tensorflow: TensorBundle.shardName(prefix: Self.tensorFlowPrefix, number - 1, of: count)
        case .gguf: preconditionFailure("GGUF outputs are never sharded")
        }
    }

    /// Whether the format holds one tensor under several names (GGUF and TensorFlow do not).
    var writesAliases: Bool { self == .safetensors || self == .pytorch }

    /// The checkpoint prefix zoo writes (TensorFlow's `Saver` default without a step number).
    static let tensorFlowPrefix = "model.ckpt"

    /// The format a destination's extension names (`x.safetensors`, `x.bin`, and the same with
    /// `.zst`), if any.
    public static func named(byExtensionOf url: URL) -> OutputFormat? {
        let plain = url.pathExtension == "zst" ? url.deletingPathExtension() : url
        return allCases.first { $0.fileExtension == plain.pathExtension }
    }
}
