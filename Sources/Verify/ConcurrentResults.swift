import Synchronization

/// Results filled in by concurrent workers (`concurrentPerform`, `SideBySide`), one slot each, read
/// back in iteration order once they are all done.
final class ConcurrentResults<Value: Sendable>: Sendable {
    private let slots: Mutex<[Value?]>

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
    }

    func store(_ index: Int, _ value: Value) {
        slots.withLock { $0[index] = value }
    }

    /// Every slot's value, in order; every slot must have been stored.
    func values() -> [Value] {
        slots.withLock { slots in
            slots.map { slot in
                guard let slot else { preconditionFailure("a concurrent worker stored no result") }
                return slot
            }
        }
    }
}
