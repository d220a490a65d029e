import Crypto
import Formats

/// SHA-256 of files (swift-crypto), read a chunk at a time.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = SHA256()
        // Straight from the mapping, each chunk's pages released after it: no copy of the bytes,
        // and hashing a 10 GB shard keeps one chunk resident.
        file.scan(in: 0..<file.size, chunkSize: 1 << 22) { hasher.update(bufferPointer: $0) }
        return hasher.finalize().lowercaseHex
    }
}
