import Foundation

/// A file being written whose `write(2)` calls run on a second thread.
///
/// Converting is two jobs of about equal size: reading and casting tensors, and the kernel
/// copying the result into the page cache. Handing full buffers to a writer thread lets the two
/// run on two cores. Memory is bounded by `slotCount` buffers of `slotSize` bytes.
public final class BackgroundFileSink: ByteSink, @unchecked Sendable {
    // @unchecked: `slots` are shared with the writer thread, which only reads a slot between its
    // submission and its release (ordered by the semaphores); `pending` and `failure` are guarded
    // by `lock`.

    public var path: String { file.path }
    /// Bytes accepted so far.
    public private(set) var bytesWritten = 0

    private let file: FileSink
    private static let slotSize = 4 << 20
    private static let slotCount = 3
    private let slots: UnsafeMutableRawBufferPointer
    private var currentSlot = 0
    private var currentFill = 0

    private let lock = NSLock()
    private var pending: [(slot: Int, length: Int)] = []
    private var failure: (any Error)?
    private var finished = false
    /// Counts slots the producer may fill next; the writer signals after each slot is written.
    private let freeSlots = DispatchSemaphore(value: slotCount - 1)
    private let filledSlots = DispatchSemaphore(value: 0)
    private let writerDone = DispatchSemaphore(value: 0)

    /// Creates (or truncates) `path` and starts the writer thread.
    public init(creating path: String) throws(CheckpointError) {
        file = try FileSink(creating: path)
        slots = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.slotSize * Self.slotCount, alignment: 4096)
        let thread = Thread { [self] in runWriter() }
        thread.name = "zoo-writer"
        thread.start()
    }

    deinit {
        slots.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try throwIfFailed()
        bytesWritten += bytes.count
        var offset = 0
        while offset < bytes.count {
            let count = min(Self.slotSize - currentFill, bytes.count - offset)
            guard let source = bytes.baseAddress, let slot = slots.baseAddress else { return }
            (slot + currentSlot * Self.slotSize + currentFill).copyMemory(from: source + offset, byteCount: count)
            currentFill += count
            offset += count
            if currentFill == Self.slotSize { try submitCurrentSlot() }
        }
    }

    /// Lets `fill` write straight into the current buffer when `count` bytes fit in one.
    public func write(count: Int, filledBy fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        guard count <= Self.slotSize, let slot = slots.baseAddress else {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
            defer { buffer.deallocate() }
            try fill(buffer)
            return try write(UnsafeRawBufferPointer(buffer))
        }
        try throwIfFailed()
        if Self.slotSize - currentFill < count { try submitCurrentSlot() }
        try fill(UnsafeMutableRawBufferPointer(start: slot + currentSlot * Self.slotSize + currentFill, count: count))
        currentFill += count
        bytesWritten += count
        if currentFill == Self.slotSize { try submitCurrentSlot() }
    }

    /// Writes out what is left, stops the writer thread, applies `patches` (bytes to overwrite at
    /// an offset, such as checksums that follow the data they cover), then `fsync`s and closes.
    public func close(patches: [(offset: Int, bytes: [UInt8])] = []) throws {
        if currentFill > 0 { try submitCurrentSlot() }
        stopWriter()
        try throwIfFailed()
        for patch in patches { try file.overwrite(patch.bytes, at: patch.offset) }
        try file.close()
    }

    /// Stops the writer thread after a failure elsewhere; the file is left for the caller to remove.
    public func abandon() {
        stopWriter()
    }

    private func submitCurrentSlot() throws {
        lock.withLock { pending.append((currentSlot, currentFill)) }
        filledSlots.signal()
        freeSlots.wait()
        currentSlot = (currentSlot + 1) % Self.slotCount
        currentFill = 0
        try throwIfFailed()
    }

    private func stopWriter() {
        let alreadyFinished = lock.withLock {
            defer { finished = true }
            return finished
        }
        guard !alreadyFinished else { return }
        filledSlots.signal()
        writerDone.wait()
    }

    private func throwIfFailed() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// The writer thread: writes slots in submission order until told to finish.
    private func runWriter() {
        while true {
            filledSlots.wait()
            let next: (slot: Int, length: Int)? = lock.withLock { pending.isEmpty ? nil : pending.removeFirst() }
            guard let next else { break }  // no slot: `stopWriter` woke us to finish
            let alreadyFailed = lock.withLock { failure != nil }
            if !alreadyFailed, let base = slots.baseAddress {
                do {
                    try file.write(UnsafeRawBufferPointer(start: base + next.slot * Self.slotSize, count: next.length))
                } catch {
                    lock.withLock { failure = error }
                }
            }
            freeSlots.signal()
        }
        writerDone.signal()
    }
}
