#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The errno of a failed system call, captured right after the call (before anything else can
/// overwrite the global `errno`).
struct Errno: Error, Equatable {
    let code: Int32
}

/// Every system call of zoo's file handling, wrapped once in swift-system's
/// `valueOrErrno(retryOnInterrupt:)` shape: the result checked, `errno` captured on failure, a
/// call interrupted by a signal (EINTR) made again where that is safe. Callers turn an `Errno`
/// into an error naming the file and the operation.
enum Syscalls {
    /// `call`'s result, or the errno it failed with; retried while it fails with EINTR when
    /// `retryOnInterrupt`.
    static func valueOrErrno<Value: FixedWidthInteger>(
        retryOnInterrupt: Bool = true, _ call: () -> Value
    ) -> Result<Value, Errno> {
        while true {
            let value = call()
            if value != -1 { return .success(value) }
            let code = errno
            if retryOnInterrupt && code == EINTR { continue }
            return .failure(Errno(code: code))
        }
    }

    /// `valueOrErrno` for calls that return 0 on success.
    static func nothingOrErrno(retryOnInterrupt: Bool = true, _ call: () -> Int32) -> Result<Void, Errno> {
        valueOrErrno(retryOnInterrupt: retryOnInterrupt, call).map { _ in () }
    }

    static func openFile(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Result<Int32, Errno> {
        valueOrErrno { open(path, flags, mode) }
    }

    static func fileStatus(_ descriptor: Int32) -> Result<stat, Errno> {
        var status = stat()
        return nothingOrErrno { fstat(descriptor, &status) }.map { status }
    }

    /// `stat(2)` of `path`, following symbolic links.
    static func pathStatus(_ path: String) -> Result<stat, Errno> {
        var status = stat()
        return nothingOrErrno { stat(path, &status) }.map { status }
    }

    static func makeDirectory(_ path: String, mode: mode_t) -> Result<Void, Errno> {
        nothingOrErrno { mkdir(path, mode) }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func readAt(_ descriptor: Int32, _ target: UnsafeMutableRawPointer, _ count: Int, at offset: Int)
        -> Result<Int, Errno>
    {
        valueOrErrno { pread(descriptor, target, count, off_t(offset)) }
    }

    static func writeSome(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Result<Int, Errno> {
        valueOrErrno { write(descriptor, bytes, count) }
    }

    static func writeAt(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int)
        -> Result<Int, Errno>
    {
        valueOrErrno { pwrite(descriptor, bytes, count, off_t(offset)) }
    }

    static func synchronize(_ descriptor: Int32) -> Result<Void, Errno> {
        nothingOrErrno { fsync(descriptor) }
    }

    /// Not retried: after EINTR the descriptor's state is unspecified on Linux, and closing again
    /// could close a descriptor another thread has just been given.
    static func closeFile(_ descriptor: Int32) -> Result<Void, Errno> {
        nothingOrErrno(retryOnInterrupt: false) { close(descriptor) }
    }

    static func renameItem(_ from: String, to: String) -> Result<Void, Errno> {
        nothingOrErrno { rename(from, to) }
    }

    /// A mapping of `count` bytes (a file's, or anonymous memory with `descriptor` -1).
    static func mapMemory(_ count: Int, protection: Int32, flags: Int32, descriptor: Int32) -> Result<
        UnsafeMutableRawPointer, Errno
    > {
        guard let mapping = mmap(nil, count, protection, flags, descriptor, 0), mapping != MAP_FAILED else {
            return .failure(Errno(code: errno))
        }
        return .success(mapping)
    }

    static func protect(_ mapping: UnsafeMutableRawPointer, _ count: Int, _ protection: Int32) -> Result<Void, Errno> {
        nothingOrErrno { mprotect(mapping, count, protection) }
    }
}
