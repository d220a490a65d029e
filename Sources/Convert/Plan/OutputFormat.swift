import Formats
import Foundation

/// A format `zoo convert` writes: one registered `OutputScheme` (`RegisteredFormats.outputs`),
/// named as `--to` spells it.
public struct OutputFormat: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Everything the format decides.
    let scheme: any OutputScheme.Type

    init(_ scheme: any OutputScheme.Type) {
        self.scheme = scheme
    }

    /// The registered format named `rawValue` (`safetensors`, `pytorch`, `tf`, `gguf`).
    public init?(rawValue: String) {
        guard let scheme = RegisteredFormats.outputs.first(where: { $0.name == rawValue }) else { return nil }
        self.scheme = scheme
    }

    /// Every registered format, in the order `--help` lists them.
    public static var allCases: [OutputFormat] { RegisteredFormats.outputs.map(OutputFormat.init) }

    /// The format written when neither `--to` nor the destination's extension names one.
    static var defaultFormat: OutputFormat { OutputFormat(RegisteredFormats.defaultOutput) }

    public var rawValue: String { scheme.name }
    public var description: String { rawValue }

    public static func == (lhs: OutputFormat, rhs: OutputFormat) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// The extension of a single-file output (`model.safetensors`, `pytorch_model.bin`); `nil`
    /// for a format that is always a directory.
    public var fileExtension: String? { scheme.fileExtension }

    /// The file name of an unsharded model directory's weights (the prefix, for TensorFlow).
    public var singleFileName: String { scheme.singleFileName }

    /// The formats zoo reads this format's outputs as (single file or sharded).
    public var writtenFormats: Set<CheckpointFormat> { scheme.writtenFormats }

    /// The format a destination's extension names (`x.safetensors`, `x.bin`, and the same with
    /// `.zst`), if any.
    public static func named(byExtensionOf url: URL) -> OutputFormat? {
        let plain = url.pathExtension == "zst" ? url.deletingPathExtension() : url
        return allCases.first { $0.fileExtension == plain.pathExtension }
    }
}
