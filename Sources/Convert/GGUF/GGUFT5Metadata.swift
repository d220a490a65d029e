import Formats

/// The `general.*` and `t5.*` key-values of a llama.cpp T5 GGUF file: written as
/// `convert_hf_to_gguf.py`'s `T5Model.set_gguf_parameters` writes them (gguf-py's `Keys`, value
/// types as its `add_*` methods give them), and read back to cross-check a GGUF source.
public enum GGUFT5Metadata {
    /// The key names, spelled as gguf-py's `constants.py` spells them for the `t5` architecture.
    public enum Key {
        public static let architecture = "general.architecture"
        public static let type = "general.type"
        public static let name = "general.name"
        public static let fileType = "general.file_type"
        public static let quantizationVersion = "general.quantization_version"
        public static let contextLength = "t5.context_length"
        public static let embeddingLength = "t5.embedding_length"
        public static let feedForwardLength = "t5.feed_forward_length"
        public static let blockCount = "t5.block_count"
        public static let decoderBlockCount = "t5.decoder_block_count"
        public static let headCount = "t5.attention.head_count"
        public static let keyLength = "t5.attention.key_length"
        public static let valueLength = "t5.attention.value_length"
        public static let layerNormEpsilon = "t5.attention.layer_norm_epsilon"
        public static let relativeBucketsCount = "t5.attention.relative_buckets_count"
        public static let layerNormRMSEpsilon = "t5.attention.layer_norm_rms_epsilon"
        public static let decoderStartTokenID = "t5.decoder_start_token_id"
        /// zoo's own key: `output.weight` is the tied embedding times this factor (`d_model^-0.5`),
        /// written so that llama.cpp, which never rescales a tied head, computes transformers'
        /// logits. A reader that knows the key reads the model as tied again.
        public static let tiedHeadScale = "zoo.tied_head_scale"
    }

    /// The architecture llama.cpp runs T5 encoder-decoders as (`t5encoder` is encoder-only).
    public static let architecture = "t5"
    public static let encoderOnlyArchitecture = "t5encoder"

    /// llama.cpp's relative-position bucketing hard-codes this maximum distance
    /// (`llama-graph.cpp`, `relative_position_bucket`); a model bucketed otherwise cannot be run.
    public static let llamaCppMaxDistance = 128

    /// gguf-py's `GGML_QUANT_VERSION`, written with quantized files.
    static let quantizationVersion: UInt32 = 2

    /// `general.file_type` (gguf-py `LlamaFileType`) of a file whose 2-D weights are `dtype`.
    static func fileType(_ dtype: DType) -> UInt32 {
        switch dtype {
        case .f16: 1
        case .q8_0: 7
        case .bf16: 32
        default: 0  // ALL_F32
        }
    }

    /// What the model's own files say beyond its tensors: `n_positions` (the converter's
    /// context length, 512 when absent) and `decoder_start_token_id` (0 when absent).
    public struct SourceConfig: Sendable, Equatable {
        public var contextLength = 512
        public var decoderStartTokenID = 0

        public init(contextLength: Int = 512, decoderStartTokenID: Int = 0) {
            self.contextLength = contextLength
            self.decoderStartTokenID = decoderStartTokenID
        }

        /// Read from a transformers `config.json`, if there is one.
        public init(_ json: JSONValue?) {
            if let value = json?["n_positions"]?.intValue, value > 0 { contextLength = value }
            if let value = json?["decoder_start_token_id"]?.intValue, value >= 0 { decoderStartTokenID = value }
        }

        /// Read from a GGUF file's `t5.*` keys.
        init(_ file: GGUFFile) {
            if case let .uint32(value)? = file.value(forKey: Key.contextLength), value > 0 {
                contextLength = Int(value)
            }
            if case let .uint32(value)? = file.value(forKey: Key.decoderStartTokenID) {
                decoderStartTokenID = Int(value)
            }
        }
    }

    /// The key-values of a GGUF file of `config`, in the order the converter writes them:
    /// `general.architecture` first (gguf-py's writer starts with it), `general.type` and
    /// `general.name`, the `t5.*` hyper-parameters and `general.file_type`, the tokenizer, and
    /// for a quantized file `general.quantization_version` last.
    ///
    /// `t5.decoder_block_count` is always written (the converter writes it whenever config.json
    /// has `num_decoder_layers`, which transformers always writes); the epsilon is written twice,
    /// as the converter does, and llama.cpp reads the RMS one.
    static func entries(
        config: T5Config, source: SourceConfig, name: String, weightType: DType,
        tokenizer: [(key: String, value: GGUFValue)], tiedHeadScale: Float?
    ) -> [(key: String, value: GGUFValue)] {
        func count(_ value: Int) -> GGUFValue { .uint32(UInt32(clamping: value)) }
        var entries: [(key: String, value: GGUFValue)] = [
            (Key.architecture, .string(architecture)),
            (Key.type, .string("model")),
            (Key.name, .string(name)),
            (Key.contextLength, count(source.contextLength)),
            (Key.embeddingLength, count(config.dModel)),
            (Key.feedForwardLength, count(config.dFF)),
            (Key.blockCount, count(config.numLayers)),
            (Key.decoderBlockCount, count(config.numDecoderLayers)),
            (Key.headCount, count(config.numHeads)),
            (Key.keyLength, count(config.dKV)),
            (Key.valueLength, count(config.dKV)),
            (Key.layerNormEpsilon, .float32(Float(config.layerNormEpsilon))),
            (Key.relativeBucketsCount, count(config.relativeAttentionNumBuckets)),
            (Key.layerNormRMSEpsilon, .float32(Float(config.layerNormEpsilon))),
            (Key.decoderStartTokenID, count(source.decoderStartTokenID)),
            (Key.fileType, .uint32(fileType(weightType))),
        ]
        if let tiedHeadScale { entries.append((Key.tiedHeadScale, .float32(tiedHeadScale))) }
        entries += tokenizer
        if weightType.isBlockQuantized { entries.append((Key.quantizationVersion, .uint32(quantizationVersion))) }
        return entries
    }

    /// The hyper-parameters a GGUF file declares, by key, for cross-checking them against its
    /// tensors: (key, declared value, the value the tensors imply).
    static func declaredSizes(in file: GGUFFile, against config: T5Config, tokenCount: Int?) -> [(
        key: String, declared: Int?, inferred: Int
    )] {
        func integer(_ key: String) -> Int? {
            switch file.value(forKey: key) {
            case let .uint32(value)?: Int(value)
            case let .int32(value)?: Int(value)
            case let .uint64(value)?: Int(exactly: value)
            case let .int64(value)?: Int(value)
            default: nil
            }
        }
        var sizes: [(key: String, declared: Int?, inferred: Int)] = [
            (Key.embeddingLength, integer(Key.embeddingLength), config.dModel),
            (Key.feedForwardLength, integer(Key.feedForwardLength), config.dFF),
            (Key.blockCount, integer(Key.blockCount), config.numLayers),
            // llama.cpp takes block_count for the decoder when the key is absent.
            (Key.decoderBlockCount, integer(Key.decoderBlockCount) ?? integer(Key.blockCount), config.numDecoderLayers),
            (Key.headCount, integer(Key.headCount), config.numHeads),
            (Key.keyLength, integer(Key.keyLength), config.dKV),
            (Key.valueLength, integer(Key.valueLength), config.dKV),
            (Key.relativeBucketsCount, integer(Key.relativeBucketsCount), config.relativeAttentionNumBuckets),
        ]
        if let tokenCount { sizes.append((GGUFVocabulary.Key.tokens, tokenCount, config.vocabSize)) }
        return sizes
    }

    /// The model's epsilon: the RMS key llama.cpp reads, else the plain one.
    static func layerNormEpsilon(in file: GGUFFile) -> Double? {
        for key in [Key.layerNormRMSEpsilon, Key.layerNormEpsilon] {
            if case let .float32(value)? = file.value(forKey: key), value.isFinite, value > 0 {
                // The shortest decimal that is this Float (1e-06, not 9.999999974752427e-07): the
                // value config.json had before it was narrowed to float32.
                return Double("\(value)") ?? Double(value)
            }
        }
        return nil
    }
}

extension GGUFVocabulary.Entry {
    /// The GGUF value of this entry (see `Entry` for the type of each case).
    var ggufValue: GGUFValue {
        switch self {
        case let .string(text): .string(text)
        case let .uint32(value): .uint32(value)
        case let .int32(value): .int32(value)
        case let .bool(value): .bool(value)
        case let .stringArray(values): .array(.string(values))
        case let .float32Array(values): .array(.float32(values))
        case let .int32Array(values): .array(.int32(values))
        case let .uint8Array(values): .array(.uint8(values))
        }
    }
}
