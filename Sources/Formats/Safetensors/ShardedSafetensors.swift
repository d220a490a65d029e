import Foundation

/// Sharded safetensors: `model-0000K-of-0000N.safetensors` files and the
/// `model.safetensors.index.json` that maps each tensor to its shard.
public enum ShardedSafetensors: CheckpointReader {
    public static let format = CheckpointFormat.safetensorsSharded
    /// The index file name transformers uses.
    public static let indexFileName = "model.safetensors.index.json"

    /// Index files are JSON text, recognised by name inside a directory rather than by bytes.
    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool { false }

    /// The file name of shard `number` (1-based) of `count`, as transformers names them.
    public static func shardFileName(_ number: Int, of count: Int) -> String {
        ShardedCheckpoint.shardFileName(stem: "model", extension: "safetensors", number, of: count)
    }

    /// Opens the checkpoint an index describes; see `ShardedCheckpoint.open`.
    public static func open(_ indexURL: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        try ShardedCheckpoint.open(index: indexURL, format: format, shardFormats: [.safetensors], checksums: checksums)
    }
}
