import Foundation

/// Sharded PyTorch checkpoints: `pytorch_model-0000K-of-0000N.bin` files and the
/// `pytorch_model.bin.index.json` that maps each tensor to its shard.
public enum ShardedTorch: CheckpointReader {
    public static let format = CheckpointFormat.pytorchSharded
    public static let indexFileName = "pytorch_model.bin.index.json"

    /// Index files are JSON text, recognised by name inside a directory rather than by bytes.
    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool { false }

    /// The file name of shard `number` (1-based) of `count`, as transformers names them.
    public static func shardFileName(_ number: Int, of count: Int) -> String {
        ShardedCheckpoint.shardFileName(stem: "pytorch_model", extension: "bin", number, of: count)
    }

    /// Opens the checkpoint an index describes (each shard a zip or legacy file); see
    /// `ShardedCheckpoint.open`.
    public static func open(_ indexURL: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        try ShardedCheckpoint.open(
            index: indexURL, format: format, shardFormats: [.pytorchZip, .pytorchLegacy], checksums: checksums)
    }
}
