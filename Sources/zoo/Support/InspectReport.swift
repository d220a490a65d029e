// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import Convert
import Formats
import ModelZoo

/// What `zoo inspect` reports, in the shape `--json` prints.
struct InspectReport: Encodable {
    struct Tensor: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let bytes: Int
        let file: String
        let offset: Int
    }

    struct Config: Encodable {
        let num_layers: Int
        let num_decoder_layers: Int
        let d_model: Int
        let d_ff: Int
        let d_kv: Int
        let num_heads: Int
        let vocab_size: Int
        let feed_forward_proj: String
        let tie_word_embeddings: Bool
        let relative_attention_num_buckets: Int
        let relative_attention_max_distance: Int

        init(_ config: T5Config) {
            num_layers = config.numLayers
            num_decoder_layers = config.numDecoderLayers
            d_model = config.dModel
            d_ff = config.dFF
            d_kv = config.dKV
            num_heads = config.numHeads
            vocab_size = config.vocabSize
            feed_forward_proj = config.feedForward.rawValue
            tie_word_embeddings = config.tieWordEmbeddings
            relative_attention_num_buckets = config.relativeAttentionNumBuckets
            relative_attention_max_distance = config.relativeAttentionMaxDistance
        }
    }

    let path: String
    let format: String
    let files: [String]
    let tensor_count: Int
    let parameters: Int
    let bytes: Int
    let dtypes: [String: Int]
    let metadata: [String: String]
    let config: Config?
    /// Tensors present in the file that are tied copies of `shared.weight`.
    let tied_aliases: [String]
    /// Why the tensors are not a valid T5 model, when they look like one but are broken.
    let t5_error: String?
    /// Entries that are not tensors (a training checkpoint's epoch, ...), reported and not converted.
    let skipped: [String]
    /// Members that carry no stored checksum (zip written with CRC-32 off): read unverified.
    let unverified: [String]
    /// Registry checkpoints with exactly this architecture (several names can share one).
    let registry_matches: [String]
    let tensors: [Tensor]
    /// For a Mesh-TF checkpoint: how its variables map to transformers' T5.
    let mesh_tf: MeshTF?

    struct MeshTF: Encodable {
        let mapped_variables: Int
        /// Variables left out of a conversion (optimizer slots, step counter), with the reason.
        let skipped_variables: [ConversionJSON.SkippedVariable]
        /// The `operative_config.gin` the config was cross-checked with, if there is one.
        let gin: String?
        /// One line counting the skipped variables by reason.
        let skipped_summary: String?
    }

    /// For a llama.cpp T5 GGUF file: how its tensors map to transformers' T5.
    let gguf: GGUF?

    struct GGUF: Encodable {
        let mapped_tensors: Int
        /// `output.weight` when it is zoo's rescaled copy of the tied embedding (not a parameter).
        let derived_head: String?
        let tied_head_scale: Float?
    }

    init(_ analyzed: AnalyzedCheckpoint) {
        gguf = analyzed.gguf.map { layout in
            GGUF(
                mapped_tensors: layout.tensors.count, derived_head: layout.derivedHead?.name,
                tied_head_scale: layout.tiedHeadScale)
        }
        mesh_tf = analyzed.meshTF.map { layout in
            MeshTF(
                mapped_variables: layout.tensors.count,
                skipped_variables: layout.skipped.map { .init(name: $0.name, reason: $0.reason.rawValue) },
                gin: layout.ginURL?.path, skipped_summary: describeSkipped(layout.skipped).first)
        }
        let checkpoint = analyzed.checkpoint
        path = checkpoint.location.path
        format = checkpoint.format.rawValue
        files = checkpoint.files.map(\.lastPathComponent)
        tensor_count = checkpoint.tensors.count
        bytes = checkpoint.tensorBytes
        dtypes = Dictionary(grouping: checkpoint.tensors, by: { $0.dtype.rawValue }).mapValues(\.count)
        metadata = checkpoint.metadata
        skipped = checkpoint.skipped
        unverified = checkpoint.unverified
        tensors = checkpoint.tensors.map {
            Tensor(
                name: $0.name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: $0.spec.byteCount,
                file: $0.file.path.split(separator: "/").last.map(String.init) ?? $0.file.path, offset: $0.fileOffset)
        }
        var matches: [String] = []
        if case let .success(model) = analyzed.t5, let registry = try? Registry.bundled() {
            matches = registry.entries(matching: model.config).map(\.name)
        }
        registry_matches = matches
        switch analyzed.t5 {
        case let .success(model):
            config = Config(model.config)
            tied_aliases = model.aliases
            parameters = model.parameterCount
            t5_error = nil
        case let .failure(error):
            config = nil
            tied_aliases = []
            parameters = checkpoint.tensors.reduce(0) { $0 + $1.spec.elementCount }
            if case .notT5 = error { t5_error = nil } else { t5_error = error.description }
        }
    }
}
