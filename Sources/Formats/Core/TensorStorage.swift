#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a tensor's bytes live, read the same way wherever that is: a file's mapping
/// (`MappedFile`, nearly every tensor) or memory zoo filled itself (`AnonymousStorage`: a tensor
/// copied out of its file because it could not be read where it lies).
///
/// Ranges are validated by the readers against `size` before they ask; an out-of-range request is
/// a bug in zoo, not bad input, so it traps.
public protocol TensorStorage: AnyObject, Sendable {
    /// The file's path, or what the bytes are, for messages.
    var path: String { get }
    /// Bytes held.
    var size: Int { get }

    /// Calls `body` with the bytes in `range`, in place.
    func withBytes<Result, Failure: Error>(
        in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result

    /// Gives back the pages of `range` after a pass that looked at them once: a file mapping's
    /// (`MappedFile.release`), so that the resident set does not grow with the file; memory zoo
    /// filled holds the only copy of its bytes and gives nothing back.
    func release(_ range: Range<Int>)

    /// Copies the bytes in `range` into `target`.
    ///
    /// - Throws: `CheckpointError.io` if a file's read fails, `.truncatedWhileReading` if it comes up
    ///   short (the file was truncated while open).
    func read(_ range: Range<Int>, into target: UnsafeMutableRawPointer) throws(CheckpointError)
}

extension TensorStorage {
    /// `range`'s bytes as an array, copied with `read` (for small, scattered records such as zip
    /// local headers, which would otherwise map a page of the file apiece).
    public func bytes(in range: Range<Int>) throws(CheckpointError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: range.count)
        var failure: CheckpointError?
        result.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            do throws(CheckpointError) { try read(range, into: base) } catch { failure = error }
        }
        if let failure { throw failure }
        return result
    }

    /// `withBytes` for a pass that looks at each byte once, the range's pages released after it.
    public func withBytesOnce<Result>(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> Result)
        rethrows -> Result
    {
        defer { release(range) }
        return try withBytes(in: range, body)
    }

    /// Calls `body` with consecutive slices of `range` in place (each at most `chunkSize` bytes, a
    /// multiple of `alignment` except the last), releasing each slice's pages after it.
    ///
    /// For passes that look at bytes once (checksums, casts, copies): no copy, and the resident set
    /// stays at about one chunk whatever the file's size. The conversion reads this way: with
    /// `pread` into a buffer, the kernel's copy was a third of the reading and casting thread's
    /// time (measured with `perf`). A file truncated meanwhile is `TruncationGuard`'s to report.
    public func scan<Failure: Error>(
        in range: Range<Int>, chunkSize: Int = 1 << 23, alignment: Int = 1,
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(path) (\(size) bytes)")
        let step = max(alignment, chunkSize / alignment * alignment)
        var start = range.lowerBound
        while start < range.upperBound {
            let chunk = start..<min(start + step, range.upperBound)
            defer { release(chunk) }
            try withBytes(in: chunk, body)
            start = chunk.upperBound
        }
    }

    /// `scan` for a throwing body, in chunks of 4 MiB unless told.
    public func forEachChunk(
        in range: Range<Int>, chunkSize: Int = 1 << 22, alignment: Int = 1,
        _ body: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try scan(in: range, chunkSize: chunkSize, alignment: alignment, body)
    }
}

/// Read-only memory of a fixed size that zoo filled itself: the tensors that must be copied out of
/// their file (a non-contiguous view of a PyTorch storage, a byte-swapped big-endian one, a
/// transposed Mesh-TF kernel), read like a file's tensors.
///
/// Anonymous pages from `mmap`, not the heap, so that once filled they can be made read-only: a
/// stray write traps instead of changing a tensor.
public final class AnonymousStorage: TensorStorage {
    public let path: String
    public let size: Int
    private let address: ReadOnlyAddress

    /// `byteCount` bytes, filled by `fill` and then made read-only.
    ///
    /// - Parameter name: what the bytes are, used as `path` in messages.
    /// - Throws: `CheckpointError.io` if the memory cannot be had or protected; `fill`'s error.
    public init(name: String, byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        path = name
        size = byteCount
        guard byteCount > 0 else {
            address = ReadOnlyAddress(pointer: nil)
            return
        }
        let memory: UnsafeMutableRawPointer
        switch Syscalls.mapMemory(
            byteCount, protection: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, descriptor: -1)
        {
        case let .success(mapped): memory = mapped
        case let .failure(error):
            throw CheckpointError.io(path: name, operation: "allocate \(byteCount) bytes", errno: error.code)
        }
        do {
            try fill(UnsafeMutableRawBufferPointer(start: memory, count: byteCount))
            if case let .failure(error) = Syscalls.protect(memory, byteCount, PROT_READ) {
                throw CheckpointError.io(path: name, operation: "mprotect", errno: error.code)
            }
        } catch {
            munmap(memory, byteCount)
            throw error
        }
        address = ReadOnlyAddress(pointer: UnsafeRawPointer(memory))
    }

    deinit {
        if let base = address.pointer { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    public func withBytes<Result, Failure: Error>(
        in range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(path) (\(size) bytes)")
        guard let base = address.pointer, !range.isEmpty else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// The pages hold the only copy of the bytes: nothing is released.
    public func release(_ range: Range<Int>) {}

    public func read(_ range: Range<Int>, into target: UnsafeMutableRawPointer) throws(CheckpointError) {
        withBytes(in: range) { bytes in
            if let source = bytes.baseAddress { target.copyMemory(from: source, byteCount: bytes.count) }
        }
    }

}

/// The start of memory that is read-only once its owner is initialised and unmapped only when the
/// owner is deinitialised: shareable across threads.
struct ReadOnlyAddress: @unchecked Sendable {
    let pointer: UnsafeRawPointer?
}
