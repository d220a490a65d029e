internal import CZooSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file being written: buffers small writes, passes large ones straight to `write(2)`.
///
/// The owner of the descriptor; closes it in `deinit` if `close()` was not called.
public final class FileSink: ByteSink {
    public let path: String
    /// Bytes accepted so far.
    public private(set) var bytesWritten = 0
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferLimit = 1 << 20
    /// Bytes handed to the kernel, and how many of those it was already asked to write back.
    private var flushedToKernel = 0
    private var writebackStarted = 0
    /// Start writeback after this many new bytes, so the final `fsync` finds little left to do.
    private static let writebackInterval = 8 << 20

    /// Creates (or truncates) `path` for writing, with mode 0644.
    public init(creating path: String) throws(CheckpointError) {
        self.path = path
        switch Syscalls.openFile(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) {
        case let .success(opened): descriptor = opened
        case let .failure(error): throw .io(path: path, operation: "create", errno: error.code)
        }
        buffer.reserveCapacity(Self.bufferLimit)
    }

    deinit {
        if descriptor >= 0 { _ = Syscalls.closeFile(descriptor) }
    }

    /// Writes `bytes` as a new file at `path` (created or truncated), fsync'd and closed: the
    /// small files around weights (an index, a manifest, `config.json`).
    ///
    /// - Throws: `CheckpointError.io` naming the file and errno.
    public static func writeNewFile(_ bytes: [UInt8], at path: String) throws {
        let sink = try FileSink(creating: path)
        try bytes.withUnsafeBytes { try sink.write($0) }
        try sink.close()
    }

    /// Writes `text` (UTF-8) as a new file at `path`; see `writeNewFile(_:at:)`.
    public static func writeNewFile(_ text: String, at path: String) throws {
        try writeNewFile(Array(text.utf8), at: path)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += bytes.count
        if buffer.count + bytes.count <= Self.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= Self.bufferLimit {
            try writeFully(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Overwrites bytes already written at `offset` (a checksum known only after the data that
    /// follows its header, for instance). Call after every byte before `offset + bytes.count`
    /// has been written.
    public func overwrite(_ bytes: [UInt8], at offset: Int) throws(CheckpointError) {
        try flush()
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw -> Result<Int, Errno> in
                guard let base = raw.baseAddress else { return .success(raw.count) }
                return Syscalls.writeAt(descriptor, base + done, raw.count - done, at: offset + done)
            }
            switch result {
            case let .success(written) where written > 0: done += written
            case .success: throw .io(path: path, operation: "pwrite", errno: EIO)
            case let .failure(error): throw .io(path: path, operation: "pwrite", errno: error.code)
            }
        }
    }

    /// The identity of the file being written, as it stands (buffered bytes are written first).
    ///
    /// Taken from the descriptor, not the path: it is this file's even if another one has taken
    /// its name meanwhile.
    func identity() throws(CheckpointError) -> FileIdentity {
        try flush()
        switch Syscalls.fileStatus(descriptor) {
        case let .success(status): return FileIdentity(status: status)
        case let .failure(error): throw .io(path: path, operation: "fstat", errno: error.code)
        }
    }

    /// Writes out the buffer, `fsync`s and closes. The file is complete and durable afterwards.
    public func close() throws(CheckpointError) {
        try flush()
        if case let .failure(error) = Syscalls.synchronize(descriptor) {
            throw .io(path: path, operation: "fsync", errno: error.code)
        }
        let result = Syscalls.closeFile(descriptor)
        descriptor = -1
        if case let .failure(error) = result { throw .io(path: path, operation: "close", errno: error.code) }
    }

    private func flush() throws(CheckpointError) {
        guard !buffer.isEmpty else { return }
        var failure: CheckpointError?
        buffer.withUnsafeBytes { bytes in
            do throws(CheckpointError) { try writeFully(bytes) } catch { failure = error }
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw failure }
    }

    /// The most one `write(2)` call is given. The kernel sizes new page-cache folios by the write
    /// (ext4 allocates up to 2 MB ones), and on the development VM memory for those came slowly:
    /// 184 MB written after a 369 MB file was deleted took 0.41-0.84 s in 4 MB writes (`dd`,
    /// system time, the copy into the page cache 2.5x slower) and 0.07-0.08 s in writes of 1 MB
    /// or less, every time. A verified conversion's write phase swung the same way.
    private static let writeChunk = 1 << 20

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws(CheckpointError) {
        guard var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written: Int
            switch Syscalls.writeSome(descriptor, next, min(left, Self.writeChunk)) {
            case let .success(count) where count > 0: written = count
            case .success: throw .io(path: path, operation: "write", errno: EIO)
            case let .failure(error): throw .io(path: path, operation: "write", errno: error.code)
            }
            next += written
            left -= written
            flushedToKernel += written
        }
        startWritebackIfDue()
    }

    /// Asks the kernel to start writing dirty pages to disk now, without waiting for them.
    ///
    /// Without this the kernel starts late and `close()`'s `fsync` waits for the whole file;
    /// with it the disk works while zoo computes, and the `fsync` only waits for the tail.
    private func startWritebackIfDue() {
        guard flushedToKernel - writebackStarted >= Self.writebackInterval else { return }
        // Best effort: if the kernel refuses, fsync still makes the file durable, only later.
        _ = CZooSystem_startWriteback(descriptor, Int64(writebackStarted), Int64(flushedToKernel - writebackStarted))
        writebackStarted = flushedToKernel
    }
}
