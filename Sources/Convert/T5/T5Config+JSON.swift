import Formats

extension T5Config {
    /// Reads the architecture fields of a transformers `config.json`.
    ///
    /// - Parameter path: used in error messages.
    /// - Throws: `ConvertError.invalidConfig` for a missing or ill-typed field, or an activation
    ///   other than relu and gated-gelu.
    public init(json: JSONValue, path: String) throws(ConvertError) {
        guard json.members != nil else { throw .invalidConfig(path: path, reason: "not a JSON object") }
        func integer(_ key: String, default fallback: Int? = nil) throws(ConvertError) -> Int {
            guard let value = json[key], value != .null else {
                if let fallback { return fallback }
                throw .invalidConfig(path: path, reason: "\(key) is missing")
            }
            guard let number = value.intValue, number >= 0 else {
                throw .invalidConfig(path: path, reason: "\(key) is not a non-negative integer")
            }
            let largest = key.hasSuffix("layers") ? T5Config.largestLayerCount : T5Config.largestDimension
            guard number <= largest else {
                throw .invalidConfig(path: path, reason: "\(key) is \(number), more than the \(largest) zoo accepts")
            }
            return number
        }
        let layers = try integer("num_layers")
        let projection = json["feed_forward_proj"]?.stringValue ?? "relu"
        guard let feedForward = FeedForward(rawValue: projection) else {
            throw .invalidConfig(
                path: path, reason: "feed_forward_proj \"\(projection)\" is neither relu nor gated-gelu")
        }
        self.init(
            vocabSize: try integer("vocab_size"), dModel: try integer("d_model"), dKV: try integer("d_kv"),
            dFF: try integer("d_ff"), numHeads: try integer("num_heads"), numLayers: layers,
            numDecoderLayers: try integer("num_decoder_layers", default: layers), feedForward: feedForward,
            tieWordEmbeddings: json["tie_word_embeddings"]?.boolValue ?? true,
            relativeAttentionNumBuckets: try integer("relative_attention_num_buckets", default: 32),
            relativeAttentionMaxDistance: try integer("relative_attention_max_distance", default: 128),
            layerNormEpsilon: json["layer_norm_epsilon"]?.doubleValue ?? 1e-6)
        guard checkedParameterCount != nil else {
            throw .invalidConfig(path: path, reason: "its sizes describe more parameters than a checkpoint can hold")
        }
    }

    /// A transformers `config.json` for this architecture, as `T5Config.save_pretrained` writes it.
    ///
    /// - Parameter torchDType: the `torch_dtype` entry (`float32`, `bfloat16`, ...).
    public func configJSON(torchDType: String) -> JSONValue {
        func number(_ value: Int) -> JSONValue { .number(String(value)) }
        let gated = feedForward == .gatedGelu
        return .object([
            .init(key: "architectures", value: .array([.string("T5ForConditionalGeneration")])),
            .init(key: "d_ff", value: number(dFF)),
            .init(key: "d_kv", value: number(dKV)),
            .init(key: "d_model", value: number(dModel)),
            .init(key: "decoder_start_token_id", value: number(0)),
            .init(key: "dense_act_fn", value: .string(gated ? "gelu_new" : "relu")),
            .init(key: "dropout_rate", value: .number("0.1")),
            .init(key: "eos_token_id", value: number(1)),
            .init(key: "feed_forward_proj", value: .string(feedForward.rawValue)),
            .init(key: "initializer_factor", value: .number("1.0")),
            .init(key: "is_encoder_decoder", value: .bool(true)),
            .init(key: "is_gated_act", value: .bool(gated)),
            .init(key: "layer_norm_epsilon", value: .number(String(layerNormEpsilon))),
            .init(key: "model_type", value: .string("t5")),
            .init(key: "num_decoder_layers", value: number(numDecoderLayers)),
            .init(key: "num_heads", value: number(numHeads)),
            .init(key: "num_layers", value: number(numLayers)),
            .init(key: "pad_token_id", value: number(0)),
            .init(key: "relative_attention_max_distance", value: number(relativeAttentionMaxDistance)),
            .init(key: "relative_attention_num_buckets", value: number(relativeAttentionNumBuckets)),
            .init(key: "tie_word_embeddings", value: .bool(tieWordEmbeddings)),
            .init(key: "torch_dtype", value: .string(torchDType)),
            .init(key: "use_cache", value: .bool(true)),
            .init(key: "vocab_size", value: number(vocabSize)),
        ])
    }
}
