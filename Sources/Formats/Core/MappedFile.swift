#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only into memory; the single owner of the mapping.
///
/// Tensor bytes are read straight from the mapping, so opening a checkpoint copies nothing.
/// The mapping lives as long as any `TensorRef` that points into it.
public final class MappedFile: @unchecked Sendable {
    // Sendable: the mapping is read-only and never changes after init.

    /// The path the file was opened with, for error messages.
    public let path: String
    /// The file's size in bytes at the time it was mapped.
    public let size: Int
    private let base: UnsafeRawPointer?

    /// Maps `path` read-only.
    ///
    /// - Throws: `CheckpointError.io` if the file cannot be opened or mapped,
    ///   `CheckpointError.notARegularFile` for directories and devices.
    public init(path: String) throws(CheckpointError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        size = Int(status.st_size)

        // mmap rejects a zero length; an empty file simply has no bytes.
        guard size > 0 else {
            base = nil
            return
        }
        let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapping, mapping != MAP_FAILED else { throw .io(path: path, operation: "mmap", errno: errno) }
        base = UnsafeRawPointer(mapping)
    }

    /// Anonymous memory of `byteCount` bytes, filled by `fill` and then made read-only; for
    /// tensors that must be copied out of their file (a non-contiguous view of a storage).
    ///
    /// - Parameter name: what the bytes are, used as `path` in messages.
    public init(
        name: String, byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) throws {
        path = name
        size = byteCount
        guard byteCount > 0 else {
            base = nil
            return
        }
        let mapping = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapping, mapping != MAP_FAILED else {
            throw CheckpointError.io(path: name, operation: "allocate \(byteCount) bytes", errno: errno)
        }
        do {
            try fill(UnsafeMutableRawBufferPointer(start: mapping, count: byteCount))
        } catch {
            munmap(mapping, byteCount)
            throw error
        }
        mprotect(mapping, byteCount, PROT_READ)
        base = UnsafeRawPointer(mapping)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Calls `body` with the bytes in `range`, which must lie inside the file.
    ///
    /// Callers validate ranges against `size` before asking; an out-of-range request is a bug in
    /// zoo, not bad input, so it traps.
    public func withBytes<Result, Failure: Error>(
        in range: Range<Int>,
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(path) (\(size) bytes)")
        guard let base, !range.isEmpty else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Drops this process's mapping of the pages covering `range`, which were read and are not
    /// needed again soon.
    ///
    /// Mapped file pages count towards the resident set, so without this a streaming conversion
    /// would grow to the size of the model. The pages stay in the page cache and fault back in
    /// from it if read again; the mapping is read-only, so nothing is lost.
    public func releasePages(in range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Whole pages only; a page shared with a neighbouring range simply faults in again if needed.
        let start = range.lowerBound / pageSize * pageSize
        let end = min(size, (range.upperBound + pageSize - 1) / pageSize * pageSize)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
    }

    /// Tells the kernel the bytes in `range` will be read once, front to back.
    public func adviseSequential(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / pageSize * pageSize
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), range.upperBound - start, MADV_SEQUENTIAL)
    }
}
