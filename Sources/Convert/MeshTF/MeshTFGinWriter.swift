/// Writes the `operative_config.gin` of a Mesh-TF checkpoint zoo produces: the macros and scoped
/// bindings T5's own operative configs use for the architecture, so `MeshTFGinConfig` (and a
/// person reading it) finds the same settings in the same places. Training settings are not
/// invented: a converted checkpoint has none.
public enum MeshTFGinWriter {
    public static func operativeConfig(for config: T5Config) -> String {
        let activation = config.feedForward == .gatedGelu ? "['gelu', 'linear']" : "'relu'"
        var lines = [
            "# Written by zoo from a transformers T5 config: the architecture only (no training settings).",
            "# The vocabulary size is the first dimension of shared/embedding (\(config.vocabSize)).",
            "",
            "# Macros:",
            "# ==============================================================================",
            "d_ff = \(config.dFF)",
            "d_kv = \(config.dKV)",
            "d_model = \(config.dModel)",
            "num_heads = \(config.numHeads)",
            "num_layers = \(config.numLayers)",
            "",
            "# Parameters for Bitransformer:",
            "# ==============================================================================",
            "Bitransformer.shared_embedding = True",
        ]
        for stack in ["decoder", "encoder"] {
            let layers = stack == "encoder" ? "%num_layers" : String(config.numDecoderLayers)
            lines += [
                "",
                "# Parameters for \(stack):",
                "# ==============================================================================",
                "\(stack)/DenseReluDense.activation = \(activation)",
                "\(stack)/DenseReluDense.hidden_size = %d_ff",
                "\(stack)/DenseReluDense.use_bias = False",
                "\(stack)/LayerStack.norm_epsilon = \(config.layerNormEpsilon)",
                "\(stack)/make_layer_stack.num_layers = \(layers)",
                "\(stack)/SelfAttention.key_value_size = %d_kv",
                "\(stack)/SelfAttention.num_heads = %num_heads",
                "\(stack)/SelfAttention.num_memory_heads = 0",
                "\(stack)/SelfAttention.relative_attention_num_buckets = \(config.relativeAttentionNumBuckets)",
                "\(stack)/SelfAttention.relative_attention_type = 'bias_shared'",
                "\(stack)/SelfAttention.shared_kv = False",
                "\(stack)/Unitransformer.d_model = %d_model",
                "\(stack)/Unitransformer.shared_embedding_and_softmax_weights = "
                    + (config.tieWordEmbeddings ? "True" : "False"),
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
