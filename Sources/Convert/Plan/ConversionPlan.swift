import Formats
import Foundation

/// Everything decided before a byte is written: which tensors go where, in which dtype, and the
/// files around them.
public struct ConversionPlan: Sendable {
    /// What the user asked for.
    public struct Request: Sendable {
        public var source: URL
        public var destination: URL
        /// Cast floating-point tensors to this dtype; `nil` keeps every dtype.
        public var dtype: DType?
        /// Start a new shard past this many bytes; `nil` writes one file.
        public var shardSize: Int?
        /// Replace a non-empty destination.
        public var force: Bool
        /// The output format; `nil` takes it from the destination's extension, else safetensors.
        public var format: OutputFormat?
        /// Write the weight files zstd-compressed (`*.zst`); implied by a destination ending in `.zst`.
        public var compress: Bool
        /// The SentencePiece model a GGUF output carries as its vocabulary; `nil` takes the source
        /// directory's `spiece.model` (or a GGUF source's own vocabulary).
        public var tokenizer: URL?

        public init(
            source: URL, destination: URL, dtype: DType? = nil, shardSize: Int? = nil, force: Bool = false,
            format: OutputFormat? = nil, compress: Bool = false, tokenizer: URL? = nil
        ) {
            self.source = source
            self.destination = destination
            self.dtype = dtype
            self.shardSize = shardSize
            self.force = force
            self.format = format
            self.compress = compress || destination.pathExtension == "zst"
            self.tokenizer = tokenizer
        }

        /// The format the destination's extension names (`x.safetensors`, `x.gguf`), if any.
        var namedFormat: OutputFormat? { OutputFormat.named(byExtensionOf: destination) }
        /// The output format: the one asked for, else the extension's, else the default. (Whether
        /// the two agree is the plan's first check.)
        var outputFormat: OutputFormat { format ?? namedFormat ?? .defaultFormat }
        /// Whether the output is a model directory: a destination without a weights extension.
        var writesDirectory: Bool { namedFormat == nil }
    }

    /// One output file and the tensors in it, by index into `tensors`.
    public struct File: Sendable {
        public let name: String
        public let tensorIndices: [Int]
    }

    public let request: Request
    public let source: AnalyzedCheckpoint
    /// The T5 reading of the source, when it is T5.
    public let model: T5Model?
    public let format: OutputFormat
    /// Whether the output is a model directory (else a single `.safetensors` or `.bin` file).
    public let writesDirectory: Bool
    /// One recipe per output tensor, in the order the source holds them.
    public let tensors: [TensorRecipe]
    public let files: [File]
    /// The aliases of `shared.weight` that are folded into it (written once).
    public let foldedAliases: [String]
    /// Names that are written as further names of another tensor: the folded aliases, and those a
    /// previous conversion recorded in the source's metadata. PyTorch outputs store them as one
    /// storage under several names; safetensors outputs record them in the metadata.
    public let aliases: [(alias: String, target: String)]
    /// `__metadata__` of every output file.
    public let metadata: [String: String]
    /// The `config.json` to write, for directory outputs of T5 models or with a source config.
    public let configJSON: JSONValue?
    /// `configJSON` as the file's text: the source's own bytes with only the dtype values
    /// replaced when that gives exactly `configJSON`, else `configJSON` printed as transformers does.
    public var configText: String? {
        guard let configJSON else { return nil }
        return sourceConfigText.flatMap { Self.patchedSourceConfig(to: configJSON, text: $0) }
            ?? configJSON.prettyPrinted() + "\n"
    }
    /// The source directory's `config.json` as read when planning.
    private let sourceConfigText: String?
    /// The files the format writes beside its weights and `config.json` in a directory output,
    /// in order (a shard index, a TensorFlow `checkpoint` and `operative_config.gin`).
    public let extraFiles: [ExtraFile]
    /// The source directory's other files, carried into a directory output (see `Companions`):
    /// only when the source is a model directory, named as one or by its sharded index or
    /// TensorFlow prefix; a single weight file's folder is not taken for its model's.
    public let companions: Companions
    /// What the format's writer stores besides the tensors (`OutputScheme.header`).
    let header: any Sendable
    /// Whether the output carries a file describing the model (`config.json`, or the format's own).
    public var writesModelConfig: Bool { format.scheme.writesModelConfig(self) }

    /// Plans converting `request.source` as `request` says: opens and analyses the source, reads
    /// what else the plan needs from disk (`PlanningContext`), then plans without I/O.
    ///
    /// - Throws: reader errors, `ConvertError` for a broken T5 checkpoint or an impossible cast,
    ///   `ConvertError.outputOverlapsInput` when the output would overwrite the input.
    public init(_ request: Request) throws {
        // Checksums are checked as the conversion reads each tensor: every byte is read once.
        let source = try AnalyzedCheckpoint(opening: request.source, checksums: .verifyWhenRead)
        try self.init(
            source: source, request: request, context: try PlanningContext(gathering: request, source: source))
    }

    /// Plans converting `source` as `request` says, from what is already read: a pure function
    /// of its arguments, in named steps (format, inputs, output tensors, files, aliases, metadata,
    /// configuration).
    ///
    /// - Throws: `ConvertError` for a broken T5 checkpoint, an output that cannot be written as
    ///   asked, an impossible cast or an output that overlaps the input; `GGUFVocabularyError`
    ///   for a tokenizer a GGUF output cannot carry.
    public init(source: AnalyzedCheckpoint, request: Request, context: PlanningContext) throws {
        let model = try source.t5ModelIfAny()
        try Self.checkNoOverlap(context)
        let format = try Self.outputFormat(request, model: model, source: source)
        let scheme = format.scheme
        let writesDirectory = request.writesDirectory
        let path = source.checkpoint.location.path
        let tensors = try Self.recipes(
            scheme.named(source.plannedInputs, model: model, path: path), requested: request.dtype, scheme: scheme)
        let files = scheme.files(of: tensors, shardSize: request.shardSize, writesDirectory: writesDirectory)
        let aliases = Self.aliases(of: tensors, source: source, tied: scheme.tiedAliases(of: model))
        let draft = PlanDraft(
            request: request, source: source, model: model, context: context, tensors: tensors, files: files,
            aliases: aliases, writesDirectory: writesDirectory)

        self.request = request
        self.source = source
        self.model = model
        self.format = format
        self.writesDirectory = writesDirectory
        self.tensors = tensors
        self.files = files
        foldedAliases = model?.aliases ?? []
        self.aliases = aliases
        metadata = Self.metadata(source: source, aliases: aliases)
        configJSON =
            writesDirectory && scheme.configPolicy != .none
            ? Self.outputConfig(
                source: source, model: model, tensors: tensors, generate: scheme.configPolicy == .carriedOrGenerated)
            : nil
        sourceConfigText = context.sourceConfigText
        companions = writesDirectory ? context.companions : Companions(none: source.checkpoint.directory)
        extraFiles = try scheme.extraFiles(of: draft)
        header = try scheme.header(of: draft)
    }

    /// Step 1: the output format, from the request and the destination's extension, and what it
    /// refuses of this source and request.
    private static func outputFormat(_ request: Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError) -> OutputFormat
    {
        if let asked = request.format, let named = request.namedFormat, asked != named {
            throw .formatMismatch(destination: request.destination.path, asked: asked.rawValue, named: named.rawValue)
        }
        let format = request.outputFormat
        try format.scheme.check(request, model: model, source: source)
        if let dtype = request.dtype, dtype.isBlockQuantized, !format.scheme.storesBlockQuantized {
            let holders = RegisteredFormats.outputs.filter { $0.storesBlockQuantized }.map { $0.displayName }
            throw .unsupportedOutput(
                format: format.rawValue, option: .dtype(dtype.rawValue),
                reason: "\(dtype.rawValue) is a \(holders.joined(separator: " or ")) tensor type; write "
                    + holders.joined(separator: " or "))
        }
        return format
    }

    /// Steps 2 to 4: the source's tensors under transformers' names and layout
    /// (`AnalyzedCheckpoint.plannedInputs`), under the output format's (`OutputScheme.named`),
    /// each with its dtype decided and how its bytes are made.
    private static func recipes(_ inputs: [PlannedInput], requested: DType?, scheme: any OutputScheme.Type)
        throws(ConvertError) -> [TensorRecipe]
    {
        try inputs.map { input throws(ConvertError) in
            let dtype = scheme.storedDType(of: input, requested: requested)
            guard
                let recipe = TensorRecipe(
                    source: input.source, name: input.name, shape: input.shape, dtype: dtype,
                    transposed: input.transposed, scale: input.scale)
            else {
                throw .unsupportedCast(tensor: input.source.name, from: input.source.dtype.rawValue, to: dtype.rawValue)
            }
            return recipe
        }
    }

    /// Step 6: the names written as further names of another tensor. transformers' own .bin files
    /// name the shared embedding four times (one storage); safetensors files name it once, and
    /// zoo records the other names it folded (and those a previous conversion recorded).
    private static func aliases(of tensors: [TensorRecipe], source: AnalyzedCheckpoint, tied: [String])
        -> [(alias: String, target: String)]
    {
        let outputNames = Set(tensors.map(\.output.name))
        var aliases: [(alias: String, target: String)] = []
        for (alias, target) in tied.map({ ($0, TiedEmbeddings.canonical) })
            + recordedAliases(source.checkpoint.metadata)
        where outputNames.contains(target) && !outputNames.contains(alias)
            && !aliases.contains(where: { $0.alias == alias })
        {
            aliases.append((alias, target))
        }
        return aliases
    }

    /// Step 7: every output file's `__metadata__`: the source's (`carriedMetadata`), the `format`
    /// key transformers requires, and the recorded aliases.
    static func metadata(source: AnalyzedCheckpoint, aliases: [(alias: String, target: String)]) -> [String: String] {
        var metadata = source.carriedMetadata
        metadata.removeValue(forKey: TiedEmbeddings.metadataKey)
        // transformers refuses safetensors files whose metadata lacks a known "format".
        if metadata["format"] == nil { metadata["format"] = "pt" }
        if !aliases.isEmpty {
            let members = aliases.map { JSONValue.Member(key: $0.alias, value: .string($0.target)) }
            metadata[TiedEmbeddings.metadataKey] = JSONValue.object(members).serialized()
        }
        return metadata
    }

    /// Whether `url` names a model directory: the directory itself, or a sharded index or
    /// TensorFlow checkpoint inside it (whose files are the directory's).
    static func isModelDirectory(_ url: URL, _ checkpoint: Checkpoint) -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return true
        }
        return checkpoint.format.isIndexInModelDirectory
    }

    /// The aliases a previous zoo conversion recorded under `zoo.tied` (ignored if malformed: they
    /// are a convenience, the tensors are complete without them).
    private static func recordedAliases(_ metadata: [String: String]) -> [(String, String)] {
        guard let text = metadata[TiedEmbeddings.metadataKey], let json = try? JSONParser.parse(Array(text.utf8)),
            let members = json.members
        else { return [] }
        return members.compactMap { member in member.value.stringValue.map { (member.key, $0) } }
    }

    /// Total bytes of tensor data written.
    public var outputTensorBytes: Int { tensors.reduce(0) { $0 + $1.output.byteCount } }

    /// The source config with `torch_dtype` / `dtype` updated, or (when `generate`) one generated
    /// from the inferred model.
    ///
    /// Every other key of the source's config is kept, in its order, numbers as spelled (and
    /// `configText` keeps its bytes too).
    private static func outputConfig(
        source: AnalyzedCheckpoint, model: T5Model?, tensors: [TensorRecipe], generate: Bool
    )
        -> JSONValue?
    {
        let floatDTypes = tensors.map(\.output.dtype).filter(\.isFloatingPoint)
        let dominant = Dictionary(grouping: floatDTypes, by: { $0 }).max { $0.value.count < $1.value.count }?.key
        if var config = source.configJSON {
            if let dominant {
                for key in ["torch_dtype", "dtype"] where config[key] != nil {
                    config = config.setting(key, to: .string(dominant.torchName))
                }
            }
            return config
        }
        return generate ? model?.config.configJSON(torchDType: (dominant ?? .f32).torchName) : nil
    }

    /// The source directory's `config.json` with its `torch_dtype` / `dtype` string values replaced
    /// by `config`'s, if that text parses to exactly `config` (so nothing else can have changed:
    /// a nested key of the same name, say, makes it `nil`); `nil` also without a source config.
    static func patchedSourceConfig(to config: JSONValue, in directory: URL) -> String? {
        PlanningContext.text(of: directory.appendingPathComponent("config.json")).flatMap {
            patchedSourceConfig(to: config, text: $0)
        }
    }

    /// `text` (a `config.json`) with its dtype values replaced by `config`'s, if that parses to
    /// exactly `config`.
    static func patchedSourceConfig(to config: JSONValue, text original: String) -> String? {
        var text = original
        for key in ["torch_dtype", "dtype"] {
            guard let value = config[key]?.stringValue else { continue }
            text = text.replacingOccurrences(
                of: #"("\#(key)"\s*:\s*)"[^"\\]*""#, with: "$1\"\(value)\"", options: .regularExpression)
        }
        guard let patched = try? JSONParser.parse(Array(text.utf8)), patched == config else { return nil }
        return text
    }

    /// Refuses an output that is, or contains, the input: replacing it would destroy the source.
    private static func checkNoOverlap(_ context: PlanningContext) throws(ConvertError) {
        let output = context.resolvedDestination
        for input in context.resolvedInputs
        where input == output || input.hasPrefix(output.hasSuffix("/") ? output : output + "/") {
            throw .outputOverlapsInput(output: context.destination, input: input)
        }
    }
}
