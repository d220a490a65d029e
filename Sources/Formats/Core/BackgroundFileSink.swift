import Foundation
import Synchronization

/// A file being written whose `write(2)` calls run on a second thread.
///
/// Converting is two jobs of about equal size: reading and casting tensors, and the kernel
/// copying the result into the page cache. Handing full buffers to a writer thread lets the two
/// run on two cores. Memory is bounded by `slotCount` buffers of `slotSize` bytes.
///
/// Not `Sendable`: one producer fills the buffers. What it shares with the writer thread lives in
/// a private `WriterChannel`.
public final class BackgroundFileSink: ByteSink {
    public var path: String { channel.file.path }
    /// Bytes accepted so far.
    public private(set) var bytesWritten = 0

    private static let slotSize = 4 << 20
    private static let slotCount = 3
    private let channel: WriterChannel
    private var currentSlot = 0
    private var currentFill = 0

    /// Creates (or truncates) `path` and starts the writer thread.
    public init(creating path: String) throws(CheckpointError) {
        channel = WriterChannel(
            file: try FileSink(creating: path), slotSize: Self.slotSize, slotCount: Self.slotCount)
        let thread = Thread { [channel] in channel.runWriter() }
        thread.name = "zoo-writer"
        thread.start()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try channel.throwIfFailed()
        bytesWritten += bytes.count
        var offset = 0
        while offset < bytes.count {
            let count = min(Self.slotSize - currentFill, bytes.count - offset)
            guard let source = bytes.baseAddress, let slot = channel.slots.baseAddress else { return }
            (slot + currentSlot * Self.slotSize + currentFill).copyMemory(from: source + offset, byteCount: count)
            currentFill += count
            offset += count
            if currentFill == Self.slotSize { try submitCurrentSlot() }
        }
    }

    /// Lets `fill` write straight into the current buffer when `count` bytes fit in one.
    public func write(count: Int, filledBy fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        guard count <= Self.slotSize, let slot = channel.slots.baseAddress else {
            return try withUnsafeTemporaryAllocation(byteCount: count, alignment: 64) { buffer in
                try fill(buffer)
                try write(UnsafeRawBufferPointer(buffer))
            }
        }
        try channel.throwIfFailed()
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
        channel.stopWriter()
        try channel.throwIfFailed()
        for patch in patches { try channel.file.overwrite(patch.bytes, at: patch.offset) }
        try channel.file.close()
    }

    /// Stops the writer thread after a failure elsewhere; the file is left for the caller to remove.
    public func abandon() {
        channel.stopWriter()
    }

    private func submitCurrentSlot() throws {
        channel.submit(slot: currentSlot, length: currentFill)
        currentSlot = (currentSlot + 1) % Self.slotCount
        currentFill = 0
        try channel.throwIfFailed()
    }
}

/// What the producer and the writer thread share: the buffers, the queue of filled ones, the
/// first write error, and the semaphores that order them.
private final class WriterChannel: @unchecked Sendable {
    // @unchecked: a slot is written by the producer until it is submitted, then read by the
    // writer until it is released, the two ordered by `filledSlots` / `freeSlots`; the queue,
    // the failure and the finished flag are in `state`'s Mutex; `file` is used by the writer
    // thread while it runs and by the producer only after `stopWriter` has waited for it.
    struct State {
        var pending: [(slot: Int, length: Int)] = []
        var failure: (any Error)?
        var finished = false
    }

    let file: FileSink
    let slots: UnsafeMutableRawBufferPointer
    private let slotSize: Int
    private let state = Mutex(State())
    /// Counts slots the producer may fill next; the writer signals after each slot is written.
    private let freeSlots: DispatchSemaphore
    private let filledSlots = DispatchSemaphore(value: 0)
    private let writerDone = DispatchSemaphore(value: 0)

    init(file: FileSink, slotSize: Int, slotCount: Int) {
        self.file = file
        self.slotSize = slotSize
        slots = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize * slotCount, alignment: 4096)
        freeSlots = DispatchSemaphore(value: slotCount - 1)
    }

    deinit {
        slots.deallocate()
    }

    /// Hands a filled slot to the writer, then waits until another slot is free to fill.
    func submit(slot: Int, length: Int) {
        state.withLock { $0.pending.append((slot, length)) }
        filledSlots.signal()
        freeSlots.wait()
    }

    func throwIfFailed() throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Lets the writer finish what is queued and waits for it to end (once).
    func stopWriter() {
        let alreadyFinished = state.withLock { state in
            defer { state.finished = true }
            return state.finished
        }
        guard !alreadyFinished else { return }
        filledSlots.signal()
        writerDone.wait()
    }

    /// The writer thread: writes slots in submission order until told to finish.
    func runWriter() {
        while true {
            filledSlots.wait()
            let next = state.withLock { $0.pending.isEmpty ? nil : $0.pending.removeFirst() }
            guard let next else { break }  // no slot: `stopWriter` woke us to finish
            let alreadyFailed = state.withLock { $0.failure != nil }
            if !alreadyFailed, let base = slots.baseAddress {
                do {
                    try file.write(UnsafeRawBufferPointer(start: base + next.slot * slotSize, count: next.length))
                } catch {
                    state.withLock { $0.failure = error }
                }
            }
            freeSlots.signal()
        }
        writerDone.signal()
    }
}
