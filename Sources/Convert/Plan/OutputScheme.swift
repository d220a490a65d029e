import Formats
import Foundation

/// Everything that differs between output formats, in one type per format: names and layout,
/// sharding and file names, the files written beside the weights, what the format refuses and
/// why, and its writer. `ConversionPlan` asks the scheme and never branches on the format; a
/// scheme lives in its format's folder and is registered once, in `RegisteredFormats`.
protocol OutputScheme: Sendable {
    /// The writer of the weight files.
    associatedtype Writer: CheckpointWriter

    /// The name `--to` takes and reports print (`safetensors`, `tf`).
    static var name: String { get }
    /// How people call it, in messages (`GGUF`).
    static var displayName: String { get }
    /// The extension of a single-file output (`safetensors`, `bin`); `nil` when the output is
    /// always a directory.
    static var fileExtension: String? { get }
    /// The weights' file name in an unsharded model directory (the prefix, for TensorFlow).
    static var singleFileName: String { get }
    /// The formats zoo reads this scheme's outputs as (single file, sharded).
    static var writtenFormats: Set<CheckpointFormat> { get }
    /// What planning reads from disk for this output besides the source (`PlanningContext`).
    static var planningNeeds: PlanningNeeds { get }
    /// Which `config.json` a directory output carries.
    static var configPolicy: ConfigPolicy { get }
    /// Whether the format stores block-quantized dtypes (Q8_0).
    static var storesBlockQuantized: Bool { get }

    /// Step 1: refuses what this format cannot hold of `source` (read as `model`) as `request` asks.
    ///
    /// - Throws: `ConvertError` saying what and why.
    static func check(_ request: ConversionPlan.Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError)

    /// Step 3: the inputs (transformers names and layout) under this format's names and layout.
    static func named(_ inputs: [PlannedInput], model: T5Model?, path: String) throws(ConvertError) -> [PlannedInput]

    /// Step 4: the dtype `input` is stored as when `requested` is asked (`nil`: none asked).
    static func storedDType(of input: PlannedInput, requested: DType?) -> DType

    /// Step 5: the weight files and the recipes in each, in write order.
    static func files(of recipes: [TensorRecipe], shardSize: Int?, writesDirectory: Bool) -> [ConversionPlan.File]

    /// Step 6: the names of tied copies of `shared.weight` this format writes as further names
    /// of it (on one storage, or recorded in the metadata).
    static func tiedAliases(of model: T5Model?) -> [String]

    /// Step 8: the files written beside the weights and `config.json` in a directory output, in
    /// order (a shard index, a TensorFlow `checkpoint` and `operative_config.gin`).
    ///
    /// - Throws: `ConvertError` for a source file that disagrees with the output.
    static func extraFiles(of plan: PlanDraft) throws(ConvertError) -> [ExtraFile]

    /// Step 9: the header the writer stores besides the tensors.
    ///
    /// - Throws: what makes the header impossible (a GGUF output without a tokenizer).
    static func header(of plan: PlanDraft) throws -> Writer.Header

    /// Whether `plan`'s output carries a file describing the model.
    static func writesModelConfig(_ plan: ConversionPlan) -> Bool
}

/// What planning reads from disk for an output, besides the source.
struct PlanningNeeds: OptionSet, Sendable {
    let rawValue: Int
    /// The source directory's `operative_config.gin`, parsed.
    static let sourceGin = PlanningNeeds(rawValue: 1 << 0)
    /// The SentencePiece model the output carries (`--tokenizer`, else the source's `spiece.model`).
    static let tokenizer = PlanningNeeds(rawValue: 1 << 1)
}

/// Which `config.json` a directory output carries.
enum ConfigPolicy: Sendable {
    /// None: the format holds its hyper-parameters itself.
    case none
    /// The source's, with its dtype updated, if it has one.
    case carried
    /// The source's, else one generated from the model.
    case carriedOrGenerated
}

/// A text file a format writes beside its weights.
public struct ExtraFile: Sendable, Equatable {
    public let name: String
    public let text: String
}

/// One tensor to write, before its dtype is decided: the source, the name and shape it gets, and
/// whether it is transposed or scaled on the way.
struct PlannedInput: Sendable {
    var source: TensorRef
    var name: String
    var shape: [Int]
    var transposed = false
    var scale: Float?
}

/// A plan's decisions before the format's header and extra files, which depend on them.
struct PlanDraft {
    let request: ConversionPlan.Request
    let source: AnalyzedCheckpoint
    let model: T5Model?
    let context: PlanningContext
    let tensors: [TensorRecipe]
    let files: [ConversionPlan.File]
    let aliases: [(alias: String, target: String)]
    let writesDirectory: Bool

    /// The weight map of a sharded index: every recipe's name, and the aliases when `withAliases`.
    func weightMap(withAliases: Bool) -> [String: String] {
        var map: [String: String] = [:]
        for file in files {
            let names = Set(file.tensorIndices.map { tensors[$0].output.name })
            for name in names { map[name] = file.name }
            if withAliases { for alias in aliases where names.contains(alias.target) { map[alias.alias] = file.name } }
        }
        return map
    }

    /// Total bytes of tensor data.
    var tensorBytes: Int { tensors.reduce(0) { $0 + $1.output.byteCount } }
}

extension OutputScheme {
    static var storesBlockQuantized: Bool { false }
    static var planningNeeds: PlanningNeeds { [] }
    static var configPolicy: ConfigPolicy { .carriedOrGenerated }

    static func check(_ request: ConversionPlan.Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError)
    {}

    static func named(_ inputs: [PlannedInput], model: T5Model?, path: String) throws(ConvertError) -> [PlannedInput] {
        inputs
    }

    /// The requested float dtype where a cast to it exists, the tensor's own otherwise; a
    /// block-quantized source becomes F32 unless a float dtype is asked.
    static func storedDType(of input: PlannedInput, requested: DType?) -> DType {
        let own = input.source.dtype
        if own.isBlockQuantized {
            return requested.flatMap { FloatCast.canCast(from: .f32, to: $0) ? $0 : nil } ?? .f32
        }
        if let requested, own != requested, FloatCast.canCast(from: own, to: requested) { return requested }
        return own
    }

    static func tiedAliases(of model: T5Model?) -> [String] { [] }

    static func extraFiles(of plan: PlanDraft) throws(ConvertError) -> [ExtraFile] { [] }

    static func writesModelConfig(_ plan: ConversionPlan) -> Bool {
        plan.writesDirectory && plan.configJSON != nil
    }

    /// Writes `files` with `plan`'s header through `Writer`.
    static func writeWeights(_ files: [WriterFile], header: any Sendable, in directory: URL) throws -> [WrittenFile] {
        guard let header = header as? Writer.Header else { preconditionFailure("\(name): the header is its own") }
        return try Writer.write(files, header: header, in: directory)
    }
}

extension OutputScheme where Writer.Header == NoHeader {
    static func header(of plan: PlanDraft) throws -> NoHeader { NoHeader() }
}
