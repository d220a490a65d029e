import Convert
import Formats
import Foundation

/// Reads the forward pass's matrices ahead of it, on a thread of its own: while one layer's
/// products run, the next weights are copied or widened to `Float` from the page cache, so a pass
/// costs about the larger of the two instead of their sum.
///
/// The weights come block by block (`T5Weights.rowBlocks`) in the order the pass uses them
/// (`T5Parameter.linearOrder`), into a few reusable buffers, at most `slots` blocks ahead: memory
/// stays a few blocks of a few MB whatever the model's size. A request out of that order (never made by the pass) is answered by `nil`, and
/// the caller reads the weight itself.
final class WeightPrefetcher {
    private let state: State

    /// Starts reading the row blocks `weights` in order.
    init(_ weights: [(parameter: T5Parameter, weight: StoredWeight, rows: Range<Int>)], slots: Int = 3) {
        state = State(weights, slots: slots)
        let state = state
        Thread.detachNewThread { state.produce() }
    }

    deinit { state.stop() }

    /// Calls `body` with rows `rows` of `parameter` if they are the next block read ahead (waiting
    /// for it if need be); `nil` if not.
    ///
    /// - Throws: the error reading the block ahead met (`CheckpointError`), or `body`'s.
    func withNext<Result>(_ parameter: T5Parameter, _ rows: Range<Int>, _ body: (WeightView) throws -> Result) throws
        -> Result?
    {
        guard let slot = state.take(parameter, rows) else { return nil }
        defer { state.give(back: slot) }
        return try body(try slot.view.get())
    }

    /// Buffers of widened weights, and the view of the weight they hold (or why it could not be read).
    private final class Slot {
        let buffers = T5Weights.Buffers()
        var view: Result<WeightView, any Error> = .success(
            WeightView(rows: 0, columns: 0, transposed: false, values: .init(start: nil, count: 0)))

        /// Reads rows `rows` of `weight` into the buffers, widened to `Float`.
        func load(_ weight: StoredWeight, rows: Range<Int>) {
            view = Result { try T5Weights.read(weight, rows: rows, into: buffers) }
        }
    }

    /// Everything the two threads share, under one condition lock.
    private final class State: @unchecked Sendable {
        // @unchecked: every field is read and written under `condition`, except a slot's buffers,
        // which only the thread that holds the slot (taken out of `free` or `ready`) touches.
        private let condition = NSCondition()
        private let weights: [(parameter: T5Parameter, weight: StoredWeight, rows: Range<Int>)]
        private var free: [Slot]
        private var ready: [(index: Int, slot: Slot)] = []
        private var nextToConsume = 0
        private var stopped = false

        init(_ weights: [(parameter: T5Parameter, weight: StoredWeight, rows: Range<Int>)], slots: Int) {
            self.weights = weights
            free = (0..<max(slots, 1)).map { _ in Slot() }
        }

        func produce() {
            for index in weights.indices {
                condition.lock()
                while free.isEmpty && !stopped { condition.wait() }
                if stopped {
                    condition.unlock()
                    return
                }
                let slot = free.removeLast()
                condition.unlock()
                slot.load(weights[index].weight, rows: weights[index].rows)
                condition.lock()
                ready.append((index, slot))
                condition.broadcast()
                condition.unlock()
            }
        }

        func take(_ parameter: T5Parameter, _ rows: Range<Int>) -> Slot? {
            condition.lock()
            defer { condition.unlock() }
            guard nextToConsume < weights.count, weights[nextToConsume].parameter == parameter,
                weights[nextToConsume].rows == rows, !stopped
            else {
                return nil
            }
            while !ready.contains(where: { $0.index == nextToConsume }) { condition.wait() }
            let position = ready.firstIndex { $0.index == nextToConsume } ?? 0
            let entry = ready.remove(at: position)
            nextToConsume += 1
            return entry.slot
        }

        func give(back slot: Slot) {
            condition.lock()
            free.append(slot)
            condition.broadcast()
            condition.unlock()
        }

        func stop() {
            condition.lock()
            stopped = true
            condition.broadcast()
            condition.unlock()
        }
    }
}
