import Foundation

/// What a path names, from `stat` alone (no open, so a FIFO never blocks): the check every
/// user-supplied path passes before zoo reads it.
public enum FileKind: Equatable, Sendable {
    case regularFile
    case directory
    /// A FIFO, socket, character or block device: nothing a checkpoint is stored in.
    case special(String)

    /// The kind of `path`, following symbolic links.
    ///
    /// - Throws: `CheckpointError.io` naming the path, with `ELOOP` reported as a symlink loop.
    public static func of(_ path: String) throws(CheckpointError) -> FileKind {
        let status: stat
        switch Syscalls.pathStatus(path) {
        case let .success(found): status = found
        case let .failure(error): throw .io(path: path, operation: "stat", errno: error.code)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .regularFile
        case S_IFDIR: return .directory
        case S_IFIFO: return .special("a FIFO")
        case S_IFSOCK: return .special("a socket")
        case S_IFCHR: return .special("a character device")
        case S_IFBLK: return .special("a block device")
        default: return .special("a special file")
        }
    }

    /// Refuses anything but a regular file or a directory.
    ///
    /// - Throws: `CheckpointError.notARegularFile` for a special file, `.io` when `stat` fails.
    public static func requireFileOrDirectory(_ path: String) throws(CheckpointError) {
        if case .special = try of(path) { throw .notARegularFile(path: path) }
    }

    /// Why `path` cannot be read as a checkpoint path, or `nil` if it is a regular file, a
    /// directory, or absent (absence is for the caller to judge: a TensorFlow prefix names no file).
    public static func problem(_ path: String) -> CheckpointError? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR ? nil : .io(path: path, operation: "stat", errno: code)
        }
        let format = status.st_mode & S_IFMT
        return format == S_IFREG || format == S_IFDIR ? nil : .notARegularFile(path: path)
    }

    /// "a FIFO", "a directory", ... for error messages.
    static func describe(_ path: String) -> String {
        switch try? of(path) {
        case .regularFile?: "a regular file"
        case .directory?: "a directory"
        case let .special(kind)?: kind
        case nil: "unreadable"
        }
    }
}
