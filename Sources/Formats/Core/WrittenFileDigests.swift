import Synchronization

/// SHA-256 digests of files this process wrote front to back, taken from the bytes as they were
/// written, so the manifest written after a conversion need not read its output back.
///
/// A `BackgroundFileSink` hashes every buffer its writer thread hands to `write(2)`, in file
/// order, and records the digest when it closes the file, with the file's identity as it stood
/// then (device, inode, size, modification time). A file it patched afterwards (a zip's CRCs) is
/// not recorded. `take` gives a digest back only while the file is still that file: one that was
/// rewritten, resized, touched or replaced since is hashed again by its caller.
public enum WrittenFileDigests {
    private static let records = Mutex<[FileKey: Record]>([:])

    /// A file by device and inode: the same file whichever path names it.
    private struct FileKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private struct Record {
        let identity: FileIdentity
        let sha256: [UInt8]
    }

    /// Records that the file whose identity is `identity` holds bytes whose SHA-256 is `sha256`.
    static func record(_ identity: FileIdentity, sha256: [UInt8]) {
        let key = FileKey(device: identity.device, inode: identity.inode)
        records.withLock { $0[key] = Record(identity: identity, sha256: sha256) }
    }

    /// The lowercase hex SHA-256 recorded when the file at `path` was written, if it is still the
    /// file that was written (same device, inode, size and modification time to the nanosecond);
    /// `nil` otherwise. The record is removed either way.
    public static func take(_ path: String) -> String? {
        guard let now = try? FileIdentity(path: path) else { return nil }
        let record = records.withLock { $0.removeValue(forKey: FileKey(device: now.device, inode: now.inode)) }
        guard let record, record.identity.change(to: now) == nil else { return nil }
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
