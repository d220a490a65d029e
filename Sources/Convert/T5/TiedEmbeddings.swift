/// The names transformers' T5 ties to `shared.weight`.
///
/// `safetensors` refuses to store two names sharing memory, so transformers writes only
/// `shared.weight`; PyTorch files may hold every alias. zoo writes the canonical tensor once and
/// records the aliases, after checking that they really are equal.
public enum TiedEmbeddings {
    public static let canonical = "shared.weight"
    /// Always tied to the shared embedding, whatever the config says.
    public static let embeddingAliases = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"]
    /// Tied only when `tie_word_embeddings` is true.
    public static let lmHead = "lm_head.weight"
    /// Metadata key under which zoo records the aliases it folded into `canonical`.
    public static let metadataKey = "zoo.tied"
}
