import Crypto
import Foundation
import Synchronization

/// A file being written whose `write(2)` calls run on a second thread, and whose SHA-256 a third
/// takes from the same buffers (unless `digesting` is off).
///
/// Converting is two jobs of about equal size: reading and casting tensors, and the kernel
/// copying the result into the page cache. Handing full buffers to a writer thread lets the two
/// run on two cores. Memory is bounded by `slotCount` buffers of `slotSize` bytes.
///
/// Not `Sendable`: one producer fills the buffers. What it shares with the writer and hashing
/// threads lives in a private `WriterChannel`.
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
    ///
    /// - Parameter digesting: whether a thread of its own hashes the bytes as they are written,
    ///   for the `WrittenDigest` that `close` returns (the manifest of a conversion's output then
    ///   need not read the file back). A file that `close` patches has none; its writer passes `false`.
    public init(creating path: String, digesting: Bool = true) throws(CheckpointError) {
        channel = WriterChannel(
            file: try FileSink(creating: path), slotSize: Self.slotSize, slotCount: Self.slotCount,
            digesting: digesting)
        let writer = Thread { [channel] in channel.runWriter() }
        writer.name = "zoo-writer"
        writer.start()
        if digesting {
            let hasher = Thread { [channel] in channel.runHasher() }
            hasher.name = "zoo-hasher"
            hasher.start()
        }
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

    /// Writes out what is left, stops the writer and hashing threads, applies `patches` (bytes to
    /// overwrite at an offset, such as checksums that follow the data they cover), then `fsync`s
    /// and closes.
    ///
    /// - Returns: the digest of the bytes written, unless the sink was not digesting or `patches`
    ///   changed them.
    @discardableResult
    public func close(patches: [(offset: Int, bytes: [UInt8])] = []) throws -> WrittenDigest? {
        if currentFill > 0 { try submitCurrentSlot() }
        channel.stop()
        try channel.throwIfFailed()
        for patch in patches { try channel.file.overwrite(patch.bytes, at: patch.offset) }
        // The identity before `close` (from the descriptor: this file, whatever its name is by
        // then); `close`'s fsync changes neither its size nor its modification time.
        let identity = patches.isEmpty ? try channel.digest.map { _ in try channel.file.identity() } : nil
        try channel.file.close()
        guard let identity, let digest = channel.digest?.finalize() else { return nil }
        return WrittenDigest(identity: identity, sha256: Array(digest))
    }

    /// Stops the threads after a failure elsewhere (nothing is recorded); the file is left for the
    /// caller to remove.
    public func abandon() {
        channel.stop()
    }

    private func submitCurrentSlot() throws {
        channel.submit(slot: currentSlot, length: currentFill)
        currentSlot = (currentSlot + 1) % Self.slotCount
        currentFill = 0
        try channel.throwIfFailed()
    }
}

/// What the producer shares with the writer thread and the hashing thread: the buffers, the
/// queues of filled ones, the first write error, and the semaphores that order them.
///
/// The two threads read each filled buffer side by side, in submission order (`write(2)` and
/// SHA-256 each take about a core's worth of the time a conversion writes); a buffer is free to
/// fill again once both are done with it.
private final class WriterChannel: @unchecked Sendable {
    // @unchecked: a slot is written by the producer until it is submitted, then read by the
    // writer and the hasher until both release it, ordered by the queued / `freeSlots`
    // semaphores; the queues, the readers' counts, the failure and the finished flag are in
    // `state`'s Mutex; `file` is used by the writer thread and `digest` by the hashing thread
    // while they run, and by the producer only after `stop` has waited for both.
    struct State {
        var toWrite: [(slot: Int, length: Int)] = []
        var toHash: [(slot: Int, length: Int)] = []
        /// Per slot: how many of the two threads have yet to release it.
        var readers: [Int]
        var failure: (any Error)?
        var finished = false
    }

    let file: FileSink
    /// The SHA-256 of the bytes submitted so far, in file order (when digesting).
    private(set) var digest: SHA256?
    let slots: UnsafeMutableRawBufferPointer
    private let slotSize: Int
    private let state: Mutex<State>
    /// Counts slots the producer may fill next; signalled when both threads released one.
    private let freeSlots: DispatchSemaphore
    private let writeQueued = DispatchSemaphore(value: 0)
    private let hashQueued = DispatchSemaphore(value: 0)
    private let threadFinished = DispatchSemaphore(value: 0)

    /// Whether a hashing thread runs (fixed at creation, so the producer never reads `digest`
    /// while that thread updates it).
    let digesting: Bool

    init(file: FileSink, slotSize: Int, slotCount: Int, digesting: Bool) {
        self.file = file
        self.digesting = digesting
        digest = digesting ? SHA256() : nil
        self.slotSize = slotSize
        state = Mutex(State(readers: [Int](repeating: 0, count: slotCount)))
        slots = UnsafeMutableRawBufferPointer.allocate(byteCount: slotSize * slotCount, alignment: 4096)
        freeSlots = DispatchSemaphore(value: slotCount - 1)
    }

    deinit {
        slots.deallocate()
    }

    /// Hands a filled slot to the writer (and the hasher), then waits until another slot is free.
    func submit(slot: Int, length: Int) {
        state.withLock { state in
            state.toWrite.append((slot, length))
            if digesting { state.toHash.append((slot, length)) }
            state.readers[slot] = digesting ? 2 : 1
        }
        writeQueued.signal()
        if digesting { hashQueued.signal() }
        freeSlots.wait()
    }

    func throwIfFailed() throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Lets the threads finish what is queued and waits for them to end (once).
    func stop() {
        let alreadyFinished = state.withLock { state in
            defer { state.finished = true }
            return state.finished
        }
        guard !alreadyFinished else { return }
        writeQueued.signal()
        if digesting { hashQueued.signal() }
        for _ in 0..<(digesting ? 2 : 1) { threadFinished.wait() }
    }

    /// The writer thread: writes slots in submission order until told to finish.
    func runWriter() {
        while let next = next(from: writeQueued, \.toWrite) {
            let alreadyFailed = state.withLock { $0.failure != nil }
            if !alreadyFailed {
                do { try file.write(bytes(of: next)) } catch { state.withLock { $0.failure = error } }
            }
            release(next.slot)
        }
        threadFinished.signal()
    }

    /// The hashing thread: adds slots to `digest` in submission order until told to finish.
    func runHasher() {
        while let next = next(from: hashQueued, \.toHash) {
            digest?.update(bufferPointer: bytes(of: next))
            release(next.slot)
        }
        threadFinished.signal()
    }

    /// Waits for the next slot in `queue`; `nil` once `stop` has woken the thread to finish.
    private func next(
        from queued: DispatchSemaphore, _ queue: WritableKeyPath<State, [(slot: Int, length: Int)]>
    ) -> (slot: Int, length: Int)? {
        queued.wait()
        return state.withLock { state in state[keyPath: queue].isEmpty ? nil : state[keyPath: queue].removeFirst() }
    }

    private func bytes(of slot: (slot: Int, length: Int)) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: slots.baseAddress.map { $0 + slot.slot * slotSize }, count: slot.length)
    }

    /// One thread is done with `slot`; the producer may fill it once both are.
    private func release(_ slot: Int) {
        let free = state.withLock { state in
            state.readers[slot] -= 1
            return state.readers[slot] == 0
        }
        if free { freeSlots.signal() }
    }
}
