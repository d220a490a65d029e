/// A buffer an object owns and reuses from call to call: allocated aligned, grown on demand,
/// freed with its owner. For buffers that live as long as a reader does (the forward pass's
/// weight blocks); a buffer needed for one scope only is `withUnsafeTemporaryAllocation`'s.
///
/// Not `Sendable`: one thread uses it at a time, and each call may move the memory.
public final class ScratchBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private let alignment: Int

    public init(alignment: Int = 64) {
        self.alignment = alignment
        storage = .allocate(byteCount: 0, alignment: alignment)
    }

    deinit {
        storage.deallocate()
    }

    /// At least `byteCount` bytes, valid until the next call; the contents are not kept when the
    /// buffer grows.
    public func bytes(_ byteCount: Int) -> UnsafeMutableRawBufferPointer {
        if storage.count < byteCount {
            storage.deallocate()
            storage = .allocate(byteCount: byteCount, alignment: alignment)
        }
        return UnsafeMutableRawBufferPointer(rebasing: storage[0..<byteCount])
    }

    /// `count` floats (the buffer bound to `Float`), valid until the next call.
    public func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        let raw = bytes(count * MemoryLayout<Float>.stride)
        guard let base = raw.baseAddress else { return UnsafeMutableBufferPointer(start: nil, count: 0) }
        return UnsafeMutableBufferPointer(start: base.bindMemory(to: Float.self, capacity: count), count: count)
    }
}
