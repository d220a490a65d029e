import Foundation

/// Results filled in by `DispatchQueue.concurrentPerform` workers, one slot per iteration, read
/// back in iteration order once they are all done.
final class ConcurrentResults<Value: Sendable>: @unchecked Sendable {
    // @unchecked: the slots are only touched under the lock.
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ index: Int, _ value: Value) {
        lock.withLock { slots[index] = value }
    }

    /// Every slot's value, in order; every slot must have been stored.
    func values() -> [Value] {
        lock.withLock {
            slots.map { slot in
                guard let slot else { preconditionFailure("a concurrent worker stored no result") }
                return slot
            }
        }
    }
}
