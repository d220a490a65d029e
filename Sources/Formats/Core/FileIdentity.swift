#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What `stat` says makes a file the same file with the same bytes: its device and inode, its size
/// and its modification time (to the nanosecond).
///
/// A conversion records the identity of every source file when it opens them and compares again
/// before its output is committed: a file rewritten in place (new size or mtime) or replaced by
/// another (new inode, as `mv` or an editor's save does) would otherwise be converted half old and
/// half new, and its manifest would prove nothing.
public struct FileIdentity: Sendable, Equatable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int
    public let modifiedSeconds: Int
    public let modifiedNanoseconds: Int

    /// The identity of the file at `path` (symbolic links followed, as opening does).
    ///
    /// - Throws: `CheckpointError.io` when the file cannot be stat'ed.
    public init(path: String) throws(CheckpointError) {
        switch Syscalls.pathStatus(path) {
        case let .success(status): self.init(status: status)
        case let .failure(error): throw .io(path: path, operation: "stat", errno: error.code)
        }
    }

    /// The identity `status` (what `stat` or `fstat` filled in) describes.
    init(status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int(status.st_size)
        #if canImport(Darwin)
            modifiedSeconds = Int(status.st_mtimespec.tv_sec)
            modifiedNanoseconds = Int(status.st_mtimespec.tv_nsec)
        #else
            modifiedSeconds = Int(status.st_mtim.tv_sec)
            modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        #endif
    }

    /// What differs in `later`, the same path's identity taken afterwards, as a phrase for an
    /// error message ("its size changed from 10 to 12 bytes"), or `nil` if nothing did.
    public func change(to later: FileIdentity) -> String? {
        if later.device != device || later.inode != inode {
            return "it was replaced by another file (inode \(inode) is now \(later.inode))"
        }
        if later.size != size { return "its size changed from \(size) to \(later.size) bytes" }
        if later.modifiedSeconds != modifiedSeconds || later.modifiedNanoseconds != modifiedNanoseconds {
            return "it was modified (its modification time changed)"
        }
        return nil
    }
}

/// The identities of a set of files, taken together, to be checked again later.
public struct FileIdentities: Sendable {
    public let entries: [(path: String, identity: FileIdentity)]

    /// Records the identity of each of `paths` now.
    ///
    /// - Throws: `CheckpointError.io` when one cannot be stat'ed.
    public init(_ paths: [String]) throws(CheckpointError) {
        var entries: [(String, FileIdentity)] = []
        for path in paths { entries.append((path, try FileIdentity(path: path))) }
        self.entries = entries
    }

    /// The first file whose identity is no longer the recorded one, and what changed (a file that
    /// disappeared counts as changed).
    public func firstChange() -> (path: String, change: String)? {
        for (path, identity) in entries {
            guard let now = try? FileIdentity(path: path) else { return (path, "it can no longer be read (removed?)") }
            if let change = identity.change(to: now) { return (path, change) }
        }
        return nil
    }
}
