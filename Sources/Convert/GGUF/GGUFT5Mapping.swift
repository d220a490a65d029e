import Formats

/// transformers' T5 tensor names and llama.cpp's, both ways, and the GGUF type each tensor is
/// stored as.
///
/// The names come from gguf-py's own tables: `constants.py` (`MODEL_ARCH.T5`'s tensor list and
/// `TENSOR_NAMES`) and `tensor_mapping.py` (the transformers names of each). gguf-py reads the
/// tensors as numpy arrays without transposing them, so a GGUF T5 weight has transformers' row-major
/// shape (`[out, in]`; the relative attention bias `[buckets, heads]`), and `ne` is that reversed.
/// transformers' tied copies (`encoder.embed_tokens.weight`, `decoder.embed_tokens.weight`) are
/// not names of their own here: `convert_hf_to_gguf.py`'s `T5Model.modify_tensors` keeps only the
/// first of them and `shared.weight` as `token_embd`, and a tied head is simply absent (llama.cpp
/// then uses `token_embd` for `output`).
public enum GGUFT5Mapping {
    /// The transformers name of each non-block tensor, and its llama.cpp name.
    static let global: [(transformers: String, gguf: String)] = [
        ("shared.weight", "token_embd.weight"),
        ("lm_head.weight", "output.weight"),
        ("encoder.final_layer_norm.weight", "enc.output_norm.weight"),
        ("decoder.final_layer_norm.weight", "dec.output_norm.weight"),
    ]

    /// The part of a block tensor's transformers name after `encoder.block.N.` and its llama.cpp
    /// name after `enc.blk.N.`; `wi` (relu) and `wi_1` (gated-GELU's linear half) are both `ffn_up`,
    /// as gguf-py maps them.
    static let encoderBlock: [(transformers: String, gguf: String)] = [
        ("layer.0.SelfAttention.q.weight", "attn_q.weight"),
        ("layer.0.SelfAttention.k.weight", "attn_k.weight"),
        ("layer.0.SelfAttention.v.weight", "attn_v.weight"),
        ("layer.0.SelfAttention.o.weight", "attn_o.weight"),
        ("layer.0.SelfAttention.relative_attention_bias.weight", "attn_rel_b.weight"),
        ("layer.0.layer_norm.weight", "attn_norm.weight"),
        ("layer.1.DenseReluDense.wi.weight", "ffn_up.weight"),
        ("layer.1.DenseReluDense.wi_0.weight", "ffn_gate.weight"),
        ("layer.1.DenseReluDense.wi_1.weight", "ffn_up.weight"),
        ("layer.1.DenseReluDense.wo.weight", "ffn_down.weight"),
        ("layer.1.layer_norm.weight", "ffn_norm.weight"),
    ]

    /// As `encoderBlock`, for `decoder.block.N.` and `dec.blk.N.`.
    static let decoderBlock: [(transformers: String, gguf: String)] = [
        ("layer.0.SelfAttention.q.weight", "attn_q.weight"),
        ("layer.0.SelfAttention.k.weight", "attn_k.weight"),
        ("layer.0.SelfAttention.v.weight", "attn_v.weight"),
        ("layer.0.SelfAttention.o.weight", "attn_o.weight"),
        ("layer.0.SelfAttention.relative_attention_bias.weight", "attn_rel_b.weight"),
        ("layer.0.layer_norm.weight", "attn_norm.weight"),
        ("layer.1.EncDecAttention.q.weight", "cross_attn_q.weight"),
        ("layer.1.EncDecAttention.k.weight", "cross_attn_k.weight"),
        ("layer.1.EncDecAttention.v.weight", "cross_attn_v.weight"),
        ("layer.1.EncDecAttention.o.weight", "cross_attn_o.weight"),
        ("layer.1.layer_norm.weight", "cross_attn_norm.weight"),
        ("layer.2.DenseReluDense.wi.weight", "ffn_up.weight"),
        ("layer.2.DenseReluDense.wi_0.weight", "ffn_gate.weight"),
        ("layer.2.DenseReluDense.wi_1.weight", "ffn_up.weight"),
        ("layer.2.DenseReluDense.wo.weight", "ffn_down.weight"),
        ("layer.2.layer_norm.weight", "ffn_norm.weight"),
    ]

    /// The llama.cpp name of the transformers tensor `name`, or `nil` for a name T5 does not have
    /// (the tied input-embedding copies included: they are not written).
    public static func ggufName(forTransformers name: String) -> String? {
        if let match = global.first(where: { $0.transformers == name }) { return match.gguf }
        for (stack, table, prefix) in [("encoder", encoderBlock, "enc"), ("decoder", decoderBlock, "dec")] {
            guard let (block, rest) = split(name, after: "\(stack).block."),
                let match = table.first(where: { $0.transformers == rest })
            else { continue }
            return "\(prefix).blk.\(block).\(match.gguf)"
        }
        return nil
    }

    /// The transformers name of the llama.cpp tensor `name`, or `nil` for a name llama.cpp's T5
    /// does not have.
    ///
    /// - Parameter feedForward: which transformers name `ffn_up` has: `wi` (relu) or `wi_1`
    ///   (gated-GELU, recognized in a GGUF by its `ffn_gate` tensors).
    public static func transformersName(forGGUF name: String, feedForward: T5Config.FeedForward) -> String? {
        if let match = global.first(where: { $0.gguf == name }) { return match.transformers }
        let up = feedForward == .gatedGelu ? "wi_1" : "wi"
        for (prefix, table, stack) in [("enc", encoderBlock, "encoder"), ("dec", decoderBlock, "decoder")] {
            guard let (block, rest) = split(name, after: "\(prefix).blk.") else { continue }
            let candidates = table.filter { $0.gguf == rest }
            let match =
                candidates.count > 1
                ? candidates.first { $0.transformers.contains("DenseReluDense.\(up).") }
                : candidates.first
            if let match { return "\(stack).block.\(block).\(match.transformers)" }
        }
        return nil
    }

    /// The GGUF type `convert_hf_to_gguf.py` stores a tensor as for the requested output type.
    ///
    /// Mirrors the converter's `prepare_tensors`: a 1-D tensor or a `*_norm.weight` is always F32
    /// (llama.cpp's kernels read norms as F32); every other T5 tensor gets the requested type,
    /// token embedding and head included (only ternary outputs keep those at F16). A Q8_0 request
    /// for a tensor whose rows are not whole blocks of 32 (`attn_rel_b`, `[buckets, heads]`, with
    /// rows of `heads` values) fails in gguf-py's quantizer, and the converter then falls back to
    /// F16, not F32. The converter widens BF16 sources to F32 first, so an F32 output of a BF16
    /// source is exact, and an F16 or Q8_0 one is rounded from the widened values.
    ///
    /// - Parameters:
    ///   - name: The llama.cpp name.
    ///   - shape: The row-major shape.
    ///   - requested: F32, F16, BF16 or Q8_0.
    public static func storedType(name: String, shape: [Int], requested: DType) -> DType {
        if shape.count <= 1 || name.hasSuffix("_norm.weight") { return .f32 }
        if requested == .q8_0, let rowLength = shape.last, rowLength % Q8_0.blockSize != 0 { return .f16 }
        return requested
    }

    /// The block index and the rest of `name` after `prefix` (`"3"`, `"attn_q.weight"`), if `name`
    /// starts with `prefix` followed by a decimal index and a dot.
    private static func split(_ name: String, after prefix: String) -> (Int, String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let tail = name.dropFirst(prefix.count)
        let digits = tail.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 5, let block = Int(digits),
            tail.dropFirst(digits.count).first == "."
        else { return nil }
        // "01" is not block 1: the names are printed, never zero-padded.
        guard String(block) == digits else { return nil }
        return (block, String(tail.dropFirst(digits.count + 1)))
    }
}
