import Formats

/// PyTorch outputs: `pytorch_model.bin` (torch.save's zip), or shards with transformers' index;
/// the shared embedding is stored under all the names transformers' own files give it, on one
/// storage.
enum PyTorchScheme: ShardedFileScheme {
    typealias Writer = TorchZipWriter

    static let name = "pytorch"
    static let displayName = "PyTorch"
    static let fileExtension: String? = "bin"
    static let singleFileName = "pytorch_model.bin"
    static let writtenFormats: Set<CheckpointFormat> = [.pytorchZip, .pytorchSharded]
    static let indexFileName = ShardedTorch.indexFileName
    /// A shard stores its aliases, so the index maps them to it.
    static let indexListsAliases = true

    static func shardFileName(_ number: Int, of count: Int) -> String {
        ShardedTorch.shardFileName(number, of: count)
    }

    /// transformers' `.bin` files name the shared embedding four times (three when the head is not tied).
    static func tiedAliases(of model: T5Model?) -> [String] {
        guard let config = model?.config else { return [] }
        return TiedEmbeddings.embeddingAliases + (config.tieWordEmbeddings ? [TiedEmbeddings.lmHead] : [])
    }
}

extension OutputFormat {
    public static let pytorch = OutputFormat(PyTorchScheme.self)
}
