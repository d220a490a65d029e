import Crypto
import Formats

/// SHA-256 of files, read through the same read-only mapping the readers use.
public enum FileDigest {
    /// The lowercase hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws -> String {
        let file = try MappedFile(path: path)
        var hasher = SHA256()
        let chunk = 1 << 22
        var offset = 0
        while offset < file.size {
            let end = min(offset + chunk, file.size)
            file.withBytes(in: offset..<end) { hasher.update(bufferPointer: $0) }
            offset = end
        }
        return hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
