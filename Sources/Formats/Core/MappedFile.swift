import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only into memory; the single owner of the mapping and descriptor.
///
/// Opening a checkpoint copies nothing: headers are parsed straight from the mapping, and passes
/// that look at each byte once (comparisons, checksums, the forward pass) read it there too,
/// releasing each range's pages after it (`withBytesOnce`, `release`: mapped pages count towards
/// the resident set, and a fault maps a whole large folio, so the release covers whole 2 MB
/// windows). The conversion reads through `forEachChunk`, chunk by chunk from the mapping too;
/// `read` (`pread`) is for small scattered records. A file truncated while mapped raises SIGBUS on
/// the next page touched past its end: `TruncationGuard` turns that into an error naming the file.
public final class MappedFile: TensorStorage {
    /// The path the file was opened with, for error messages.
    public let path: String
    /// The file's size in bytes at the time it was mapped.
    public let size: Int
    private let address: ReadOnlyAddress
    private var base: UnsafeRawPointer? { address.pointer }
    /// Open for `pread`.
    private let descriptor: Int32
    /// The mapping's slot in `TruncationGuard` (`nil`: no slot was free).
    private let guardSlot: Int32?
    /// Released ranges not yet handed back to the kernel (see `release`).
    private let pendingReleases = Mutex(ReleaseBatch(mergeDistance: MappedFile.releaseWindow))

    /// Maps `path` read-only.
    ///
    /// - Throws: `CheckpointError.io` if the file cannot be opened or mapped,
    ///   `CheckpointError.notARegularFile` for directories and devices.
    public init(path: String) throws(CheckpointError) {
        self.path = path
        // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever, before the
        // regular-file check below could refuse it. Reads of a regular file never block anyway.
        let descriptor: Int32
        switch Syscalls.openFile(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) {
        case let .success(opened): descriptor = opened
        case let .failure(error): throw .io(path: path, operation: "open", errno: error.code)
        }
        let status: stat
        switch Syscalls.fileStatus(descriptor) {
        case let .success(found): status = found
        case let .failure(error):
            _ = Syscalls.closeFile(descriptor)
            throw .io(path: path, operation: "stat", errno: error.code)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            _ = Syscalls.closeFile(descriptor)
            throw .notARegularFile(path: path)
        }
        self.descriptor = descriptor
        size = Int(status.st_size)

        // mmap rejects a zero length; an empty file simply has no bytes.
        guard size > 0 else {
            address = ReadOnlyAddress(pointer: nil)
            guardSlot = nil
            return
        }
        let mapping: UnsafeMutableRawPointer
        switch Syscalls.mapMemory(size, protection: PROT_READ, flags: MAP_PRIVATE, descriptor: descriptor) {
        case let .success(mapped): mapping = mapped
        case let .failure(error):
            _ = Syscalls.closeFile(descriptor)
            throw .io(path: path, operation: "mmap", errno: error.code)
        }
        address = ReadOnlyAddress(pointer: UnsafeRawPointer(mapping))
        guardSlot = TruncationGuard.guardMapping(mapping, length: size, path: path)
    }

    deinit {
        if let guardSlot { TruncationGuard.release(guardSlot) }
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
        _ = Syscalls.closeFile(descriptor)
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

    /// Releases the pages of the mapping around `range` (`MADV_DONTNEED`; they stay in the page
    /// cache) after a pass that looked at them once (`withBytesOnce`, `scan`).
    ///
    /// The release covers whole 2 MB windows around `range`: a fault maps a whole large folio of
    /// the page cache (or a fault-around window) at once, pages beyond `range` included, and those
    /// would stay resident if the range they belong to had been read and released already. A
    /// reader of a neighbouring range faults its pages back in from the page cache.
    ///
    /// Releases are gathered into runs of a few MB first (`ReleaseBatch`): each `madvise` costs
    /// every core a TLB flush. Whatever is still gathered when the file is closed goes with the
    /// mapping.
    public func release(_ range: Range<Int>) {
        guard base != nil, !range.isEmpty else { return }
        for run in pendingReleases.withLock({ $0.add(range) }) { adviseDontNeed(run) }
    }

    private func adviseDontNeed(_ range: Range<Int>) {
        guard let base else { return }
        let first = range.lowerBound / Self.releaseWindow * Self.releaseWindow
        let end = min(size, (range.upperBound + Self.releaseWindow - 1) / Self.releaseWindow * Self.releaseWindow)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, MADV_DONTNEED)
    }

    /// The largest folio a fault maps at once on x86-64 (a PMD), and a multiple of every page size.
    private static let releaseWindow = 2 << 20

    /// Copies the bytes in `range` into `target` with `pread`, without mapping them into the
    /// resident set.
    ///
    /// - Throws: `CheckpointError.io` if a read fails, `.truncatedWhileReading` if it comes up short
    ///   (the file was truncated while open).
    public func read(_ range: Range<Int>, into target: UnsafeMutableRawPointer) throws(CheckpointError) {
        precondition(
            range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(path) (\(size) bytes)")
        var filled = 0
        while filled < range.count {
            switch Syscalls.readAt(descriptor, target + filled, range.count - filled, at: range.lowerBound + filled) {
            case let .success(read) where read > 0: filled += read
            // The file ended early: it was truncated while open.
            case .success: throw .truncatedWhileReading(path: path, offset: range.lowerBound + filled)
            case let .failure(error): throw .io(path: path, operation: "read", errno: error.code)
            }
        }
    }
}
