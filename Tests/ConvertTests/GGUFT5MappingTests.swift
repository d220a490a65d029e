import Testing

@testable import Convert
@testable import Formats

/// `GGUFT5Mapping` against gguf-py's T5 name map (`gguf.get_tensor_name_map(MODEL_ARCH.T5, n)`,
/// gguf 0.19.0, pairs printed from it) and the storage rule of `convert_hf_to_gguf.py`.
@Suite struct GGUFT5MappingTests {
    /// Pairs as gguf-py's `TensorNameMap.get_name` gives them (suffix `.weight` added).
    static let ggufPy: [(String, String)] = [
        ("shared.weight", "token_embd.weight"),
        ("lm_head.weight", "output.weight"),
        ("encoder.final_layer_norm.weight", "enc.output_norm.weight"),
        ("decoder.final_layer_norm.weight", "dec.output_norm.weight"),
        ("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "enc.blk.0.attn_rel_b.weight"),
        ("encoder.block.0.layer.0.layer_norm.weight", "enc.blk.0.attn_norm.weight"),
        ("encoder.block.0.layer.1.layer_norm.weight", "enc.blk.0.ffn_norm.weight"),
        ("encoder.block.3.layer.1.DenseReluDense.wi_0.weight", "enc.blk.3.ffn_gate.weight"),
        ("encoder.block.3.layer.1.DenseReluDense.wo.weight", "enc.blk.3.ffn_down.weight"),
        ("decoder.block.1.layer.0.SelfAttention.o.weight", "dec.blk.1.attn_o.weight"),
        ("decoder.block.1.layer.1.layer_norm.weight", "dec.blk.1.cross_attn_norm.weight"),
        ("decoder.block.1.layer.1.EncDecAttention.k.weight", "dec.blk.1.cross_attn_k.weight"),
        ("decoder.block.11.layer.2.layer_norm.weight", "dec.blk.11.ffn_norm.weight"),
    ]

    @Test func matchesGGUFPy() {
        for (transformers, gguf) in Self.ggufPy {
            #expect(GGUFT5Mapping.ggufName(forTransformers: transformers) == gguf, "\(transformers)")
            #expect(GGUFT5Mapping.transformersName(forGGUF: gguf, feedForward: .gatedGelu) == transformers, "\(gguf)")
        }
    }

    @Test(arguments: [T5Config.FeedForward.relu, .gatedGelu])
    func everyTensorMapsToOneNameAndBack(feedForward: T5Config.FeedForward) throws {
        let config = T5Config(
            vocabSize: 2048, dModel: 64, dKV: 16, dFF: 256, numHeads: 4, numLayers: 4, numDecoderLayers: 2,
            feedForward: feedForward, tieWordEmbeddings: false)
        let names = config.expectedTensors.map(\.name)
        let mapped = try names.map { try #require(GGUFT5Mapping.ggufName(forTransformers: $0), "\($0)") }
        #expect(Set(mapped).count == names.count)
        for (name, gguf) in zip(names, mapped) {
            #expect(GGUFT5Mapping.transformersName(forGGUF: gguf, feedForward: feedForward) == name)
        }
    }

    @Test func upIsWiOrWi1() {
        let relu = "decoder.block.0.layer.2.DenseReluDense.wi.weight"
        let gated = "decoder.block.0.layer.2.DenseReluDense.wi_1.weight"
        #expect(GGUFT5Mapping.ggufName(forTransformers: relu) == "dec.blk.0.ffn_up.weight")
        #expect(GGUFT5Mapping.ggufName(forTransformers: gated) == "dec.blk.0.ffn_up.weight")
        #expect(GGUFT5Mapping.transformersName(forGGUF: "dec.blk.0.ffn_up.weight", feedForward: .relu) == relu)
        #expect(GGUFT5Mapping.transformersName(forGGUF: "dec.blk.0.ffn_up.weight", feedForward: .gatedGelu) == gated)
    }

    @Test(arguments: [
        "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "encoder.block.x.layer.0.layer_norm.weight",
        "encoder.block.01.layer.0.layer_norm.weight", "encoder.block.0.layer.2.layer_norm.weight",
        "decoder.block.0.layer.1.SelfAttention.q.weight", "encoder.block.0.layer.0.SelfAttention.q.bias", "",
    ])
    func refusesNamesT5DoesNotHave(name: String) {
        #expect(GGUFT5Mapping.ggufName(forTransformers: name) == nil)
    }

    @Test(arguments: [
        "enc.blk.0.cross_attn_q.weight", "enc.blk.0.attn_q", "blk.0.attn_q.weight", "dec.blk.-1.attn_q.weight",
        "dec.blk.99999999.attn_q.weight", "token_embd", "output_norm.weight",
    ])
    func refusesNamesLlamaCppT5DoesNotHave(name: String) {
        #expect(GGUFT5Mapping.transformersName(forGGUF: name, feedForward: .relu) == nil)
    }

    /// What `prepare_tensors` gives each kind of tensor of the sample for q8_0, f16, bf16 and f32.
    @Test func storedTypes() {
        let q8 = DType.q8_0
        #expect(GGUFT5Mapping.storedType(name: "token_embd.weight", shape: [2048, 64], requested: q8) == .q8_0)
        #expect(GGUFT5Mapping.storedType(name: "enc.blk.0.attn_q.weight", shape: [64, 64], requested: q8) == .q8_0)
        #expect(GGUFT5Mapping.storedType(name: "enc.blk.0.ffn_down.weight", shape: [64, 256], requested: q8) == .q8_0)
        // [buckets, heads]: rows of 4 are not Q8_0 blocks; gguf-py's QuantError makes it F16.
        #expect(GGUFT5Mapping.storedType(name: "enc.blk.0.attn_rel_b.weight", shape: [32, 4], requested: q8) == .f16)
        #expect(GGUFT5Mapping.storedType(name: "enc.blk.0.attn_norm.weight", shape: [64], requested: q8) == .f32)
        #expect(GGUFT5Mapping.storedType(name: "dec.output_norm.weight", shape: [64], requested: .f16) == .f32)
        #expect(GGUFT5Mapping.storedType(name: "enc.blk.0.attn_rel_b.weight", shape: [32, 4], requested: .f16) == .f16)
        #expect(GGUFT5Mapping.storedType(name: "output.weight", shape: [2048, 64], requested: .bf16) == .bf16)
        #expect(GGUFT5Mapping.storedType(name: "output.weight", shape: [2048, 64], requested: .f32) == .f32)
    }
}
