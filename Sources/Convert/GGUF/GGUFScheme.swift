import Formats
import Foundation

/// llama.cpp GGUF outputs (architecture `t5`), always one file: llama.cpp's names, the rescaled
/// tied head, the `t5.*` hyper-parameters and the tokenizer as typed key-values; norms and
/// vectors stay F32. llama.cpp's split files (`gguf-split`) are not written.
enum GGUFScheme: OutputScheme {
    typealias Writer = GGUFWriter

    static let name = "gguf"
    static let displayName = "GGUF"
    static let fileExtension: String? = "gguf"
    static let singleFileName = "model.gguf"
    static let writtenFormats: Set<CheckpointFormat> = [.gguf]
    static let planningNeeds: PlanningNeeds = .tokenizer
    /// llama.cpp reads no `config.json`: the file holds its hyper-parameters itself.
    static let configPolicy = ConfigPolicy.none
    static let storesBlockQuantized = true

    /// Refuses what a GGUF output cannot be: compressed, sharded, of a dtype llama.cpp's T5 does
    /// not store, or of a model llama.cpp cannot run.
    static func check(_ request: ConversionPlan.Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError)
    {
        let path = source.checkpoint.location.path
        guard let model else { throw .notT5(path: path, reason: "GGUF outputs hold llama.cpp's T5 models only") }
        if request.compress {
            throw .unsupportedOutput(
                format: "gguf", option: .compression, reason: "llama.cpp maps GGUF files uncompressed")
        }
        if request.shardSize != nil {
            throw .unsupportedOutput(
                format: "gguf", option: .sharding,
                reason: "zoo writes a GGUF model as one file (llama.cpp's gguf-split files are not written)")
        }
        if let dtype = request.dtype, !GGMLType.writableDTypes.contains(dtype) {
            throw .unsupportedOutput(
                format: "gguf", option: .dtype(dtype.rawValue),
                reason: "a GGUF T5 model's weights are F32, F16, BF16 or Q8_0")
        }
        if let untied = model.separateEmbeddings.first {
            throw .unsupportedVariant(
                path: path, variant: "untied input embeddings",
                reason: "\(untied) differs from shared.weight, and llama.cpp's T5 has one token embedding "
                    + "(token_embd) for the encoder and the decoder")
        }
        if model.config.relativeAttentionMaxDistance != GGUFT5Metadata.llamaCppMaxDistance {
            throw .unsupportedVariant(
                path: path, variant: "relative_attention_max_distance \(model.config.relativeAttentionMaxDistance)",
                reason: "llama.cpp buckets relative positions with a maximum distance of "
                    + "\(GGUFT5Metadata.llamaCppMaxDistance), so it would run another model")
        }
    }

    /// `inputs` (transformers names) under llama.cpp's names, with the rescaled copy of a tied
    /// embedding added as `output.weight`.
    ///
    /// transformers multiplies the decoder's output by `d_model^-0.5` before a tied head; llama.cpp
    /// never does (it multiplies by `token_embd` as it is), so a file with no `output.weight`
    /// gives logits `sqrt(d_model)` times too large. Writing the head as the embedding times
    /// `d_model^-0.5` makes llama.cpp compute transformers' logits; the factor is recorded
    /// (`GGUFT5Metadata.Key.tiedHeadScale`) so that zoo reads the file as tied again.
    static func named(_ inputs: [PlannedInput], model: T5Model?, path: String) throws(ConvertError) -> [PlannedInput] {
        guard let model else { return inputs }
        var named = try inputs.map { input throws(ConvertError) -> PlannedInput in
            guard let name = GGUFT5Mapping.ggufName(forTransformers: input.name) else {
                throw .unmappedTensor(path: path, tensor: input.name)
            }
            var renamed = input
            renamed.name = name
            return renamed
        }
        if model.config.tieWordEmbeddings, var head = inputs.first(where: { $0.name == TiedEmbeddings.canonical }) {
            head.name = "output.weight"
            head.scale = tiedHeadScale(model.config)
            named.append(head)
        }
        return named
    }

    /// The requested dtype (else the tensor's own where it widens to F32 exactly, F32 otherwise) where
    /// llama.cpp stores it so: norms and vectors stay F32 (`GGUFT5Mapping.storedType`).
    static func storedDType(of input: PlannedInput, requested: DType?) -> DType {
        let own = input.source.dtype
        let wanted = requested ?? (own == .q8_0 || FloatCast.canCast(from: own, to: .f32) ? own : .f32)
        return GGUFT5Mapping.storedType(name: input.name, shape: input.shape, requested: wanted)
    }

    /// One file: `model.gguf` in a directory output, else the destination itself.
    static func files(of recipes: [TensorRecipe], shardSize: Int?, writesDirectory: Bool) -> [ConversionPlan.File] {
        [ConversionPlan.File(name: singleFileName, tensorIndices: Array(recipes.indices))]
    }

    /// transformers' rescaling of the decoder output before a tied head, `d_model^-0.5`.
    static func tiedHeadScale(_ config: T5Config) -> Float {
        Float(1 / Double(config.dModel).squareRoot())
    }

    /// The GGUF output's key-values: hyper-parameters from the model (and the source's
    /// `n_positions` / `decoder_start_token_id`), the tokenizer the context read (`--tokenizer`,
    /// else the source directory's `spiece.model`), else a GGUF source's own.
    ///
    /// - Throws: `ConvertError.missingTokenizer` when there is none of them, `GGUFVocabularyError`
    ///   for a tokenizer that cannot be T5's.
    static func header(of plan: PlanDraft) throws -> [(key: String, value: GGUFValue)] {
        let (request, source, context) = (plan.request, plan.source, plan.context)
        guard let model = plan.model else { return [] }
        let tokenizer: [(key: String, value: GGUFValue)]
        if let pieces = context.tokenizer {
            let vocabulary = try GGUFVocabulary(
                model: pieces, vocabularySize: model.config.vocabSize, specialTokens: .t5(pieces))
            tokenizer = vocabulary.metadata.map { ($0.key, $0.value.ggufValue) }
        } else if let layout = source.gguf, !layout.tokenizerEntries.isEmpty {
            tokenizer = layout.tokenizerEntries
        } else {
            throw ConvertError.missingTokenizer(directory: source.checkpoint.directory.path)
        }
        let sourceConfig = source.gguf?.sourceConfig ?? GGUFT5Metadata.SourceConfig(source.configJSON)
        let embedding = plan.tensors.first { $0.output.name == "token_embd.weight" }
        let name =
            context.sourceIsModelDirectory
            ? source.checkpoint.directory.lastPathComponent : request.source.deletingPathExtension().lastPathComponent
        return GGUFT5Metadata.entries(
            config: model.config, source: sourceConfig, name: name, weightType: embedding?.output.dtype ?? .f32,
            tokenizer: tokenizer, tiedHeadScale: model.config.tieWordEmbeddings ? tiedHeadScale(model.config) : nil)
    }
}

extension OutputFormat {
    public static let gguf = OutputFormat(GGUFScheme.self)
}
