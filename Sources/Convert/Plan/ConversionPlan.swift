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
        /// The output format: the one asked for, else the extension's, else safetensors. (Whether
        /// the two agree is the plan's first check.)
        var outputFormat: OutputFormat { format ?? namedFormat ?? .safetensors }
        /// Whether the output is a model directory: a destination without a weights extension.
        var writesDirectory: Bool { namedFormat == nil }
    }

    /// One output tensor and where its bytes come from.
    public struct Tensor: Sendable {
        public let source: TensorRef
        public let output: TensorSpec
        /// Transposed on the way (a Mesh-TF kernel becoming a transformers weight).
        public var transposed = false
        /// Multiplied by this on the way (the rescaled tied head of a GGUF output).
        public var scale: Float?

        /// The bytes to write: the source renamed, cast, quantized, transposed or scaled as planned.
        func emitted() -> EmittedTensor {
            emittedBytes(of: source, as: output.dtype, name: output.name, transposed: transposed, scale: scale)
        }
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
    public let tensors: [Tensor]
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
    /// The `operative_config.gin` to write, for TensorFlow outputs whose source directory has none
    /// (a source's own is carried as a companion, after checking it against the tensors).
    public let operativeConfig: String?
    /// The source directory's other files, carried into a directory output (see `Companions`):
    /// only when the source is a model directory, named as one or by its sharded index or
    /// TensorFlow prefix; a single weight file's folder is not taken for its model's.
    public let companions: Companions
    /// The key-values of a GGUF output (its hyper-parameters and tokenizer), in file order.
    public let ggufMetadata: [(key: String, value: GGUFValue)]
    /// Whether the output carries a file describing the model: `config.json` in a directory
    /// output, `operative_config.gin` (written or kept) in a TensorFlow one; never in GGUF, which
    /// holds its hyper-parameters itself.
    public var writesModelConfig: Bool {
        format == .tensorflow ? operativeConfig != nil || keepsSourceGin : writesDirectory && configJSON != nil
    }
    /// Whether a TensorFlow output keeps the source's `operative_config.gin`.
    public var keepsSourceGin: Bool { format == .tensorflow && companions.files.contains(MeshTFLayout.ginFileName) }

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
        let writesDirectory = request.writesDirectory
        let tensors = try Self.outputTensors(
            Self.namedInputs(Self.plannedInputs(source, model: model), format: format, model: model, source: source),
            requested: request.dtype, format: format)
        let aliases = Self.aliases(of: tensors, source: source, model: model, format: format)

        self.request = request
        self.source = source
        self.model = model
        self.format = format
        self.writesDirectory = writesDirectory
        self.tensors = tensors
        files = Self.files(of: tensors, format: format, shardSize: writesDirectory ? request.shardSize : nil)
        foldedAliases = model?.aliases ?? []
        self.aliases = aliases
        metadata = Self.metadata(source: source, aliases: aliases)
        ggufMetadata =
            if format == .gguf, let model {
                try Self.ggufMetadata(
                    request: request, source: source, model: model, tensors: tensors, context: context)
            } else {
                []
            }
        // A Mesh-TF output carries the source's config.json (if any) but never generates one.
        // A GGUF file holds its hyper-parameters itself (llama.cpp reads no config.json).
        configJSON =
            writesDirectory && format != .gguf
            ? Self.outputConfig(source: source, model: model, tensors: tensors, generate: format != .tensorflow) : nil
        sourceConfigText = context.sourceConfigText
        companions = writesDirectory ? context.companions : Companions(none: source.checkpoint.directory)
        operativeConfig = try Self.operativeConfig(format: format, model: model, sourceGin: context.sourceGin)
    }

    /// Step 1: the output format, from the request and the destination's extension, and what it
    /// refuses of this source and request.
    private static func outputFormat(_ request: Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError) -> OutputFormat
    {
        let path = source.checkpoint.location.path
        if let asked = request.format, let named = request.namedFormat, asked != named {
            throw .formatMismatch(destination: request.destination.path, asked: asked.rawValue, named: named.rawValue)
        }
        let format = request.outputFormat
        switch format {
        case .tensorflow:
            guard let model else { throw .notT5(path: path, reason: "Mesh-TF outputs hold T5 models only") }
            if request.compress {
                throw .unsupportedOutput(
                    format: format.rawValue, option: .compression,
                    reason: "TensorFlow reads its checkpoints uncompressed")
            }
            // Mesh-TF T5 has one input embedding for both stacks (`shared/embedding`).
            if let untied = model.separateEmbeddings.first {
                throw .unsupportedVariant(
                    path: path, variant: "untied input embeddings",
                    reason: "\(untied) differs from shared.weight, and a Mesh-TF T5 checkpoint holds one embedding "
                        + "matrix for the encoder, the decoder and (when tied) the head")
            }
        case .gguf:
            guard let model else { throw .notT5(path: path, reason: "GGUF outputs hold llama.cpp's T5 models only") }
            try checkGGUFRequest(request, model: model, path: path)
        case .safetensors, .pytorch:
            break
        }
        if request.dtype == .q8_0 && format != .gguf {
            throw .unsupportedOutput(
                format: format.rawValue, option: .dtype("Q8_0"), reason: "Q8_0 is a GGUF tensor type; write GGUF")
        }
        return format
    }

    /// Step 2: the source's tensors under transformers' names and shapes. A Mesh-TF source's
    /// optimizer slots and step counter are left out (and reported); a GGUF source's rescaled tied
    /// head is not a tensor of the model; tied copies of `shared.weight` are folded into it.
    private static func plannedInputs(_ source: AnalyzedCheckpoint, model: T5Model?) -> [PlannedInput] {
        if let layout = source.meshTF {
            return layout.tensors.map { ($0.source, $0.name, $0.shape, $0.transposed, nil) }
        }
        if let layout = source.gguf {
            return layout.tensors.map { ($0.source, $0.name, $0.source.shape, false, nil) }
        }
        let folded = model?.aliases ?? []
        return source.checkpoint.tensors.filter { !folded.contains($0.name) }.map {
            ($0, $0.name, $0.shape, false, nil)
        }
    }

    /// Step 3: the inputs under the output format's names (Mesh-TF variables, llama.cpp tensors).
    private static func namedInputs(
        _ inputs: [PlannedInput], format: OutputFormat, model: T5Model?, source: AnalyzedCheckpoint
    ) throws(ConvertError) -> [PlannedInput] {
        let path = source.checkpoint.location.path
        switch (format, model) {
        case (.tensorflow, _): return try meshTFNamed(inputs, path: path)
        case let (.gguf, model?): return try ggufNamed(inputs, model: model, path: path)
        default: return inputs
        }
    }

    /// Step 4: each output tensor's spec (its dtype decided) and how its bytes are made.
    private static func outputTensors(_ inputs: [PlannedInput], requested: DType?, format: OutputFormat)
        throws(ConvertError) -> [Tensor]
    {
        try inputs.map { input throws(ConvertError) in
            let dtype = outputDType(of: input, requested: requested, format: format)
            guard let output = TensorSpec(name: input.name, dtype: dtype, shape: input.shape),
                dtype == input.source.dtype && !input.transposed && input.scale == nil || canEmit(input, as: dtype)
            else {
                throw .unsupportedCast(tensor: input.source.name, from: input.source.dtype.rawValue, to: dtype.rawValue)
            }
            return Tensor(source: input.source, output: output, transposed: input.transposed, scale: input.scale)
        }
    }

    /// Step 5: the output files. TensorFlow bundles shard themselves (`TensorBundle.write`, in key
    /// order); GGUF is one file; a single-file destination is never sharded (`shardSize` nil).
    private static func files(of tensors: [Tensor], format: OutputFormat, shardSize: Int?) -> [File] {
        let groups = ShardPlan.groups(
            byteCounts: tensors.map(\.output.byteCount),
            limit: format == .tensorflow || format == .gguf ? nil : shardSize)
        return groups.enumerated().map { number, indices in
            File(
                name: groups.count == 1 ? format.singleFileName : format.shardFileName(number + 1, of: groups.count),
                tensorIndices: indices)
        }
    }

    /// Step 6: the names written as further names of another tensor. transformers' own .bin files
    /// name the shared embedding four times (one storage); safetensors files name it once, and
    /// zoo records the other names it folded (and those a previous conversion recorded).
    private static func aliases(of tensors: [Tensor], source: AnalyzedCheckpoint, model: T5Model?, format: OutputFormat)
        -> [(alias: String, target: String)]
    {
        let outputNames = Set(tensors.map(\.output.name))
        var tied = format.writesAliases ? (model?.aliases ?? []) : []
        if format == .pytorch, let config = model?.config {
            tied = TiedEmbeddings.embeddingAliases + (config.tieWordEmbeddings ? [TiedEmbeddings.lmHead] : [])
        }
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

    /// Step 7: every output file's `__metadata__`: the source's (a GGUF source's is its
    /// hyper-parameters and tokenizer, which other formats keep elsewhere), the `format` key
    /// transformers requires, and the recorded aliases.
    private static func metadata(source: AnalyzedCheckpoint, aliases: [(alias: String, target: String)])
        -> [String: String]
    {
        var metadata = source.checkpoint.format == .gguf ? [:] : source.checkpoint.metadata
        metadata.removeValue(forKey: TiedEmbeddings.metadataKey)
        // transformers refuses safetensors files whose metadata lacks a known "format".
        if metadata["format"] == nil { metadata["format"] = "pt" }
        if !aliases.isEmpty {
            let members = aliases.map { JSONValue.Member(key: $0.alias, value: .string($0.target)) }
            metadata[TiedEmbeddings.metadataKey] = JSONValue.object(members).serialized()
        }
        return metadata
    }

    /// Step 8: a TensorFlow output's `operative_config.gin` to write: none when the source's is
    /// kept (it records the training run, and must describe these tensors), else one written from
    /// the model.
    private static func operativeConfig(format: OutputFormat, model: T5Model?, sourceGin: PlanningContext.SourceGin?)
        throws(ConvertError) -> String?
    {
        guard format == .tensorflow, let model else { return nil }
        guard let sourceGin else { return MeshTFGinWriter.operativeConfig(for: model.config) }
        try MeshTFLayout.crossCheck(sourceGin.config, from: sourceGin.url, against: model.config)
        return nil
    }

    /// Whether `url` names a model directory: the directory itself, or a sharded index or
    /// TensorFlow checkpoint inside it (whose files are the directory's).
    static func isModelDirectory(_ url: URL, _ checkpoint: Checkpoint) -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            return true
        }
        return [.safetensorsSharded, .pytorchSharded, .tensorflowBundle].contains(checkpoint.format)
    }

    /// One tensor to write, before its dtype is decided.
    typealias PlannedInput = (source: TensorRef, name: String, shape: [Int], transposed: Bool, scale: Float?)

    /// The dtype `input` is written as: the requested float dtype where a cast to it exists (a
    /// GGUF output keeps norms and vectors F32, see `GGUFT5Mapping.storedType`), its own otherwise.
    /// A Q8_0 source written to a format other than GGUF becomes F32 unless a float dtype is asked.
    private static func outputDType(of input: PlannedInput, requested: DType?, format: OutputFormat) -> DType {
        let own = input.source.dtype
        if format == .gguf {
            let wanted = requested ?? (own == .q8_0 || FloatCast.canCast(from: own, to: .f32) ? own : .f32)
            return GGUFT5Mapping.storedType(name: input.name, shape: input.shape, requested: wanted)
        }
        if own == .q8_0 { return requested.flatMap { FloatCast.canCast(from: .f32, to: $0) ? $0 : nil } ?? .f32 }
        if let requested, own != requested, FloatCast.canCast(from: own, to: requested) { return requested }
        return own
    }

    /// Whether `emittedBytes` can produce `input` as `dtype`.
    private static func canEmit(_ input: PlannedInput, as dtype: DType) -> Bool {
        let source = input.source
        if dtype == .q8_0 || source.dtype == .q8_0 || input.scale != nil {
            return Float32EncodedTensor(
                source, to: dtype, name: input.name, transposed: input.transposed, scale: input.scale) != nil
        }
        if input.transposed { return TransposingTensor(source, to: dtype, name: input.name) != nil }
        return dtype == source.dtype || FloatCast.canCast(from: source.dtype, to: dtype)
    }

    /// `inputs` (transformers names) under their Mesh-TF names; a transpose on the way in and one
    /// on the way out cancel (a Mesh-TF source rewritten as Mesh-TF is copied).
    private static func meshTFNamed(_ inputs: [PlannedInput], path: String) throws(ConvertError) -> [PlannedInput] {
        try inputs.map { input throws(ConvertError) in
            guard let mesh = MeshTFNames.meshTFName(forHF: input.name) else {
                throw .unmappedTensor(path: path, tensor: input.name)
            }
            return (
                input.source, mesh.name, mesh.transposed ? input.shape.reversed() : input.shape,
                input.transposed != mesh.transposed, input.scale
            )
        }
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
    private static func outputConfig(source: AnalyzedCheckpoint, model: T5Model?, tensors: [Tensor], generate: Bool)
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

/// One tensor as it is written, and what its cast did (read after it has been emitted).
struct EmittedTensor {
    let bytes: any TensorByteSource
    /// The dtype the values had before (the source's).
    let sourceDType: DType
    /// The overflow, underflow and NaN counts of the tensor's cast once it has been emitted;
    /// `nil` when no cast happens (a rename, a copy, a transpose or scaling in the same dtype).
    let castStatistics: (() -> CastStatistics)?
}

/// `source`'s bytes as they are written: transposed, cast, quantized and/or scaled where asked,
/// under `name`. The dtype and shape were checked when the plan or layout was made
/// (`ConversionPlan.canEmit`), so the sources below exist. The stage that casts says so itself
/// (`EmittedTensor.castStatistics`), so no caller has to find it by type.
func emittedBytes(of source: TensorRef, as dtype: DType, name: String, transposed: Bool, scale: Float? = nil)
    -> EmittedTensor
{
    let casts = dtype != source.dtype
    if dtype == .q8_0 && source.dtype != .q8_0 || source.dtype == .q8_0 && dtype != .q8_0 || scale != nil,
        let encoded = Float32EncodedTensor(source, to: dtype, name: name, transposed: transposed, scale: scale)
    {
        return EmittedTensor(
            bytes: encoded, sourceDType: source.dtype, castStatistics: casts ? { encoded.statistics } : nil)
    }
    if transposed, let transposing = TransposingTensor(source, to: dtype, name: name) {
        return EmittedTensor(
            bytes: transposing, sourceDType: source.dtype, castStatistics: casts ? { transposing.statistics } : nil)
    }
    if casts, let casting = CastingTensor(source, to: dtype, name: name) {
        return EmittedTensor(bytes: casting, sourceDType: source.dtype, castStatistics: { casting.statistics })
    }
    return EmittedTensor(
        bytes: source.name == name ? source : source.renamed(name), sourceDType: source.dtype, castStatistics: nil)
}
