import Formats

/// The architecture of a T5 (v1.0 relu or v1.1 gated-GELU) encoder-decoder, as transformers'
/// `T5Config` describes it.
public struct T5Config: Sendable, Equatable, Codable {
    /// The feed-forward block: `wo(relu(wi x))`, or `wo(gelu(wi_0 x) * wi_1 x)`.
    public enum FeedForward: String, Sendable, Codable {
        case relu = "relu"
        case gatedGelu = "gated-gelu"
    }

    public var vocabSize: Int
    public var dModel: Int
    public var dKV: Int
    public var dFF: Int
    public var numHeads: Int
    public var numLayers: Int
    public var numDecoderLayers: Int
    public var feedForward: FeedForward
    public var tieWordEmbeddings: Bool
    public var relativeAttentionNumBuckets: Int
    /// Not visible in the weights; transformers' default unless a config says otherwise.
    public var relativeAttentionMaxDistance: Int
    public var layerNormEpsilon: Double

    /// The largest size (d_model, d_ff, d_kv, heads, vocabulary, buckets) and layer count zoo
    /// accepts from a config file. Far above any T5 (xxl: d_ff 65,536; mT5: vocabulary 250,112;
    /// T5-Efficient: 48 layers), and small enough that every tensor's element count and the
    /// model's parameter count fit in an `Int`: a hostile config is refused, not multiplied.
    public static let largestDimension = 1 << 24
    public static let largestLayerCount = 1 << 12

    public init(
        vocabSize: Int, dModel: Int, dKV: Int, dFF: Int, numHeads: Int, numLayers: Int, numDecoderLayers: Int,
        feedForward: FeedForward, tieWordEmbeddings: Bool, relativeAttentionNumBuckets: Int = 32,
        relativeAttentionMaxDistance: Int = 128, layerNormEpsilon: Double = 1e-6
    ) {
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.dKV = dKV
        self.dFF = dFF
        self.numHeads = numHeads
        self.numLayers = numLayers
        self.numDecoderLayers = numDecoderLayers
        self.feedForward = feedForward
        self.tieWordEmbeddings = tieWordEmbeddings
        self.relativeAttentionNumBuckets = relativeAttentionNumBuckets
        self.relativeAttentionMaxDistance = relativeAttentionMaxDistance
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Width of the attention projections, `numHeads * dKV`.
    public var innerDimension: Int { numHeads * dKV }

    /// Every tensor a transformers `T5ForConditionalGeneration` state dict holds for this config,
    /// with its shape, in state-dict order. The tied aliases (`encoder.embed_tokens.weight`,
    /// `decoder.embed_tokens.weight`, and `lm_head.weight` when tied) are not listed: see
    /// `TiedEmbeddings`.
    public var expectedTensors: [(name: String, shape: [Int])] {
        var tensors: [(String, [Int])] = [("shared.weight", [vocabSize, dModel])]
        for stack in ["encoder", "decoder"] {
            let layers = stack == "encoder" ? numLayers : numDecoderLayers
            for block in 0..<layers {
                let prefix = "\(stack).block.\(block).layer"
                tensors += attention("\(prefix).0.SelfAttention", relativeBias: block == 0)
                tensors.append(("\(prefix).0.layer_norm.weight", [dModel]))
                var feedForwardLayer = 1
                if stack == "decoder" {
                    tensors += attention("\(prefix).1.EncDecAttention", relativeBias: false)
                    tensors.append(("\(prefix).1.layer_norm.weight", [dModel]))
                    feedForwardLayer = 2
                }
                let ffn = "\(prefix).\(feedForwardLayer).DenseReluDense"
                switch feedForward {
                case .relu:
                    tensors.append(("\(ffn).wi.weight", [dFF, dModel]))
                case .gatedGelu:
                    tensors.append(("\(ffn).wi_0.weight", [dFF, dModel]))
                    tensors.append(("\(ffn).wi_1.weight", [dFF, dModel]))
                }
                tensors.append(("\(ffn).wo.weight", [dModel, dFF]))
                tensors.append(("\(prefix).\(feedForwardLayer).layer_norm.weight", [dModel]))
            }
            tensors.append(("\(stack).final_layer_norm.weight", [dModel]))
        }
        if !tieWordEmbeddings { tensors.append(("lm_head.weight", [vocabSize, dModel])) }
        return tensors
    }

    /// Parameters of the model, tied embeddings counted once: the same tensor list `T5Model`
    /// checks a loaded checkpoint against.
    public var parameterCount: Int {
        expectedTensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
    }

    /// `parameterCount`, or `nil` if it does not fit in an `Int` (a config no file could hold).
    public var checkedParameterCount: Int? {
        var total = 0
        for (_, shape) in expectedTensors {
            guard let count = shape.checkedProduct(), let sum = total.checkedAdding(count) else { return nil }
            total = sum
        }
        return total
    }

    /// `parameterCount` split into the embedding (and untied LM head), the encoder and the decoder.
    public var parameterBreakdown: (embedding: Int, encoder: Int, decoder: Int) {
        var parts = (embedding: 0, encoder: 0, decoder: 0)
        for (name, shape) in expectedTensors {
            let count = shape.reduce(1, *)
            if name.hasPrefix("encoder.") {
                parts.encoder += count
            } else if name.hasPrefix("decoder.") {
                parts.decoder += count
            } else {
                parts.embedding += count
            }
        }
        return parts
    }

    private func attention(_ prefix: String, relativeBias: Bool) -> [(String, [Int])] {
        var tensors: [(String, [Int])] = [
            ("\(prefix).q.weight", [innerDimension, dModel]),
            ("\(prefix).k.weight", [innerDimension, dModel]),
            ("\(prefix).v.weight", [innerDimension, dModel]),
            ("\(prefix).o.weight", [dModel, innerDimension]),
        ]
        if relativeBias {
            tensors.append(("\(prefix).relative_attention_bias.weight", [relativeAttentionNumBuckets, numHeads]))
        }
        return tensors
    }
}
