/// The SHA-256 a `BackgroundFileSink` took of the bytes it wrote into one file, and the file's
/// identity as it stood when it was closed (device, inode, size, modification time).
public struct WrittenDigest: Sendable {
    public let identity: FileIdentity
    public let sha256: [UInt8]
}

/// SHA-256 digests of files written front to back, taken from the bytes as they were written, so
/// the manifest written after a conversion need not read its output back.
///
/// A value handed from the writers (`CheckpointWriter.write` returns each file's digest) through
/// the conversion's report to the manifest. A file a writer patched after writing it (a zip's
/// CRCs) has no digest. `digest(of:)` gives a digest back only while the file is still the file
/// that was written: one that was rewritten, resized, touched or replaced since is hashed again
/// by its caller.
public struct WrittenFileDigests: Sendable {
    /// A file by device and inode: the same file whichever path names it.
    private struct FileKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private var records: [FileKey: WrittenDigest] = [:]

    public init() {}

    /// Adds `digest` (replacing an earlier one of the same file).
    public mutating func record(_ digest: WrittenDigest) {
        records[FileKey(device: digest.identity.device, inode: digest.identity.inode)] = digest
    }

    /// Adds every digest of `other`.
    public mutating func merge(_ other: WrittenFileDigests) {
        records.merge(other.records) { _, new in new }
    }

    /// The lowercase hex SHA-256 recorded when the file at `path` was written, if it is still the
    /// file that was written (same device, inode, size and modification time to the nanosecond);
    /// `nil` otherwise.
    public func digest(of path: String) -> String? {
        guard let now = try? FileIdentity(path: path),
            let record = records[FileKey(device: now.device, inode: now.inode)], record.identity.change(to: now) == nil
        else { return nil }
        return record.sha256.lowercaseHex
    }
}

extension Sequence<UInt8> {
    /// The bytes as lowercase hex, two digits each (a digest as `sha256sum` prints it).
    public var lowercaseHex: String {
        map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
