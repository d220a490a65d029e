import Foundation

extension ShardedCheckpoint {
    /// Opens the checkpoint an index describes, each shard through `Checkpoint.open` (so a shard
    /// may be stored zstd-compressed) and required to be one of `shardFormats`.
    public static func open(
        index indexURL: URL, format: CheckpointFormat, shardFormats: Set<CheckpointFormat>, checksums: ChecksumPolicy
    ) throws -> Checkpoint {
        try open(index: indexURL, format: format) { shard in
            let checkpoint = try Checkpoint.open(shard, checksums: checksums)
            guard shardFormats.contains(checkpoint.format) else {
                throw CheckpointError.invalidIndex(
                    path: indexURL.path, reason: "shard \(shard.lastPathComponent) is \(checkpoint.format.displayName)")
            }
            return checkpoint
        }
    }
}
