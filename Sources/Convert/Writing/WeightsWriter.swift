import Formats
import Foundation

/// How one output format lays the planned tensors out inside the staged output: the weight files
/// and the format's own bookkeeping (a shard index, a TensorFlow `.index` and `checkpoint`).
///
/// What else a model directory holds (`config.json`, `operative_config.gin`, the source's other
/// files) the `Converter` writes for every format alike, so it has no branch per format.
protocol WeightsWriter {
    /// Writes `tensors` (the plan's, in plan order, as they are emitted) into `staged`.
    ///
    /// - Returns: the files written: names relative to a directory output, the destination's
    ///   own name for a single file.
    static func write(_ tensors: [any TensorByteSource], of plan: ConversionPlan, into staged: StagedOutput) throws
        -> [String]
}

extension OutputFormat {
    /// The writer of this format's weights.
    var weightsWriter: any WeightsWriter.Type {
        switch self {
        case .safetensors, .pytorch: FileSetWeights.self
        case .tensorflow: TensorFlowWeights.self
        case .gguf: GGUFWeights.self
        }
    }
}

/// Writes `text` as a new file at `url`.
func writeTextFile(_ text: String, to url: URL) throws {
    var sink = try FileSink(creating: url.path)
    try sink.write(Array(text.utf8))
    try sink.close()
}
