import Convert
import Formats

/// One weight of a T5 model, named by what it does rather than by any checkpoint's name for it.
///
/// The forward pass and the weight-by-weight comparison ask for parameters; a `T5Naming` says
/// where a checkpoint keeps each one. Sub-layer indices are the same in both layouts zoo reads:
/// 0 self-attention, then (decoder) 1 cross-attention, then the feed-forward block.
enum T5Parameter: Hashable, Sendable {
    enum Stack: String, Sendable, CaseIterable {
        case encoder, decoder
    }

    enum Attention: Sendable {
        case selfAttention, crossAttention
    }

    enum Projection: String, Sendable, CaseIterable {
        case q, k, v, o
    }

    enum FeedForwardMatrix: String, Sendable {
        case wi, wi0 = "wi_0", wi1 = "wi_1", wo
    }

    /// `[vocab, d_model]`, shared by both stacks' inputs (and the logits when tied).
    case sharedEmbedding
    /// The input embedding of one stack: the shared one, unless a checkpoint keeps its own.
    case inputEmbedding(Stack)
    /// The untied output projection, `[vocab, d_model]` in transformers' orientation.
    case lmHead
    /// The relative-position bucket table of a stack's first layer, `[buckets, heads]`.
    case relativeAttentionBias(Stack)
    case layerNorm(Stack, block: Int, sublayer: Int)
    case finalLayerNorm(Stack)
    /// An attention projection, `[out, in]` in transformers' orientation.
    case attention(Stack, block: Int, Attention, Projection)
    /// A feed-forward matrix, `[out, in]` in transformers' orientation.
    case feedForward(Stack, block: Int, FeedForwardMatrix)

    /// The sub-layer index of an attention block (self first, cross second in the decoder).
    static func sublayer(_ attention: Attention) -> Int { attention == .selfAttention ? 0 : 1 }

    /// The sub-layer index of a stack's feed-forward block.
    static func feedForwardSublayer(_ stack: Stack) -> Int { stack == .encoder ? 1 : 2 }

    /// The matrices of a forward pass's products, in the order it multiplies them: per layer the
    /// attention projections (q, k, v, o; the decoder's self then cross attention), then the
    /// feed-forward matrices; the encoder before the decoder.
    static func linearOrder(_ config: T5Config) -> [T5Parameter] {
        let ffn: [FeedForwardMatrix] = config.feedForward == .gatedGelu ? [.wi0, .wi1, .wo] : [.wi, .wo]
        var order: [T5Parameter] = []
        for stack in Stack.allCases {
            let layers = stack == .encoder ? config.numLayers : config.numDecoderLayers
            for block in 0..<layers {
                let attentions: [Attention] = stack == .encoder ? [.selfAttention] : [.selfAttention, .crossAttention]
                for attention in attentions {
                    order += Projection.allCases.map { .attention(stack, block: block, attention, $0) }
                }
                order += ffn.map { .feedForward(stack, block: block, $0) }
            }
        }
        return order
    }

    /// Every parameter of a model with `config`, each stack's layers in order (the input
    /// embeddings, which default to the shared one, are not listed apart).
    static func all(_ config: T5Config) -> [T5Parameter] {
        var parameters: [T5Parameter] = [.sharedEmbedding]
        let ffn: [FeedForwardMatrix] = config.feedForward == .gatedGelu ? [.wi0, .wi1, .wo] : [.wi, .wo]
        for stack in Stack.allCases {
            let layers = stack == .encoder ? config.numLayers : config.numDecoderLayers
            parameters.append(.relativeAttentionBias(stack))
            for block in 0..<layers {
                let attentions: [Attention] = stack == .encoder ? [.selfAttention] : [.selfAttention, .crossAttention]
                for attention in attentions {
                    parameters.append(.layerNorm(stack, block: block, sublayer: sublayer(attention)))
                    parameters += Projection.allCases.map { .attention(stack, block: block, attention, $0) }
                }
                parameters.append(.layerNorm(stack, block: block, sublayer: feedForwardSublayer(stack)))
                parameters += ffn.map { .feedForward(stack, block: block, $0) }
            }
            parameters.append(.finalLayerNorm(stack))
        }
        if !config.tieWordEmbeddings { parameters.append(.lmHead) }
        return parameters
    }
}

/// Where a checkpoint keeps a parameter: the tensor's name, and whether it is stored transposed
/// relative to transformers' orientation (a Mesh-TF kernel is `[in, out]`).
struct StoredWeight: Sendable {
    let tensor: TensorRef
    let transposed: Bool

    var name: String { tensor.name }
}

/// The two name schemes of T5 checkpoints, written here from the layouts themselves.
///
/// Deliberately not the conversion's name table (`MeshTFNames` in Convert): verification reads
/// each side by its own names, so a wrong entry in the table the conversion used shows up as a
/// difference instead of being repeated on both sides.
enum T5Naming: Sendable {
    /// transformers' `T5ForConditionalGeneration` state-dict names, `[out, in]` matrices.
    case transformers
    /// The original Mesh-TensorFlow variables: `encoder/block_000/layer_000/SelfAttention/q`,
    /// `[in, out]` kernels, `[heads, buckets]` bias tables.
    case meshTF
    /// llama.cpp's GGUF T5 tensors: `enc.blk.N.attn_q.weight`, `[out, in]` matrices as in
    /// transformers, `[buckets, heads]` bias tables, one `token_embd` for both stacks.
    case gguf

    /// The scheme of `checkpoint`'s names, told from the names themselves: llama.cpp's when it
    /// holds `token_embd.weight`, Mesh-TF's when it holds `shared/embedding`.
    static func of(_ checkpoint: Checkpoint) -> T5Naming {
        if checkpoint.tensor(named: "token_embd.weight") != nil { return .gguf }
        return checkpoint.tensor(named: "shared/embedding") != nil ? .meshTF : .transformers
    }

    /// Whether a checkpoint of these names is compared weight by weight even against one of the
    /// same names: llama.cpp's files may hold a derived head that is no parameter of the model.
    var pairsByParameter: Bool { self == .gguf }

    /// The name `parameter` has under this scheme, and whether it is stored transposed.
    ///
    /// - Parameter has: whether the checkpoint holds a tensor of that name (a transformers
    ///   checkpoint keeps a stack's own `embed_tokens` only sometimes).
    func location(of parameter: T5Parameter, has: (String) -> Bool) -> (name: String, transposed: Bool) {
        switch self {
        case .transformers: Self.transformersLocation(parameter, has: has)
        case .meshTF: Self.meshTFLocation(parameter, has: has)
        case .gguf: (Self.ggufName(parameter), false)
        }
    }

    /// The tensor a zoo-written GGUF file adds for a tied head: the embedding times
    /// `d_model^-0.5` (llama.cpp applies no rescaling of its own), not a parameter of the model.
    static let ggufDerivedHead = "output.weight"

    /// llama.cpp's name for `parameter` (its `LLM_TENSOR_*` names as gguf-py's `TENSOR_NAMES`
    /// spell them for the `t5` architecture).
    private static func ggufName(_ parameter: T5Parameter) -> String {
        func block(_ stack: T5Parameter.Stack, _ index: Int) -> String {
            "\(stack == .encoder ? "enc" : "dec").blk.\(index)"
        }
        switch parameter {
        case .sharedEmbedding, .inputEmbedding: return "token_embd.weight"
        case .lmHead: return "output.weight"
        case let .relativeAttentionBias(stack): return "\(block(stack, 0)).attn_rel_b.weight"
        case let .layerNorm(stack, index, sublayer):
            let norm =
                switch (stack, sublayer) {
                case (_, 0): "attn_norm"
                case (.decoder, 1): "cross_attn_norm"
                default: "ffn_norm"
                }
            return "\(block(stack, index)).\(norm).weight"
        case let .finalLayerNorm(stack): return "\(stack == .encoder ? "enc" : "dec").output_norm.weight"
        case let .attention(stack, index, attention, projection):
            return
                "\(block(stack, index)).\(attention == .selfAttention ? "attn" : "cross_attn")_\(projection.rawValue).weight"
        case let .feedForward(stack, index, matrix):
            let name =
                switch matrix {
                case .wi, .wi1: "ffn_up"
                case .wi0: "ffn_gate"
                case .wo: "ffn_down"
                }
            return "\(block(stack, index)).\(name).weight"
        }
    }

    private static func transformersLocation(_ parameter: T5Parameter, has: (String) -> Bool) -> (String, Bool) {
        switch parameter {
        case .sharedEmbedding: ("shared.weight", false)
        case let .inputEmbedding(stack):
            // transformers 5 writes untied stack embeddings as matrices of their own.
            has("\(stack.rawValue).embed_tokens.weight")
                ? ("\(stack.rawValue).embed_tokens.weight", false) : ("shared.weight", false)
        case .lmHead: ("lm_head.weight", false)
        case let .relativeAttentionBias(stack):
            ("\(stack.rawValue).block.0.layer.0.SelfAttention.relative_attention_bias.weight", false)
        case let .layerNorm(stack, block, sublayer):
            ("\(stack.rawValue).block.\(block).layer.\(sublayer).layer_norm.weight", false)
        case let .finalLayerNorm(stack): ("\(stack.rawValue).final_layer_norm.weight", false)
        case let .attention(stack, block, attention, projection):
            (
                "\(stack.rawValue).block.\(block).layer.\(T5Parameter.sublayer(attention))."
                    + "\(attention == .selfAttention ? "SelfAttention" : "EncDecAttention").\(projection.rawValue).weight",
                false
            )
        case let .feedForward(stack, block, matrix):
            (
                "\(stack.rawValue).block.\(block).layer.\(T5Parameter.feedForwardSublayer(stack))"
                    + ".DenseReluDense.\(matrix.rawValue).weight", false
            )
        }
    }

    /// The Mesh-TF name in its original spelling; `meshTFLocation(_:has:)` also knows the newer ones.
    static func meshTFLocation(_ parameter: T5Parameter) -> (String, Bool) {
        func layer(_ stack: T5Parameter.Stack, _ block: Int, _ sublayer: Int) -> String {
            "\(stack.rawValue)/block_\(threeDigits(block))/layer_\(threeDigits(sublayer))"
        }
        switch parameter {
        case .sharedEmbedding, .inputEmbedding: return ("shared/embedding", false)
        // Mesh-TF's untied output layer is a `[d_model, vocab]` kernel.
        case .lmHead: return ("decoder/logits/kernel", true)
        case let .relativeAttentionBias(stack):
            return ("\(layer(stack, 0, 0))/SelfAttention/relative_attention_bias", true)
        case let .layerNorm(stack, block, sublayer): return ("\(layer(stack, block, sublayer))/layer_norm/scale", false)
        case let .finalLayerNorm(stack): return ("\(stack.rawValue)/final_layer_norm/scale", false)
        case let .attention(stack, block, attention, projection):
            let kind = attention == .selfAttention ? "SelfAttention" : "EncDecAttention"
            return ("\(layer(stack, block, T5Parameter.sublayer(attention)))/\(kind)/\(projection.rawValue)", true)
        case let .feedForward(stack, block, matrix):
            return (
                "\(layer(stack, block, T5Parameter.feedForwardSublayer(stack)))/DenseReluDense/\(matrix.rawValue)/kernel",
                true
            )
        }
    }

    private static func threeDigits(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}
