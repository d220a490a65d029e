import Convert
import Formats
import Foundation

/// Reads the forward pass's matrices ahead of it, on a thread of its own: while one layer's
/// products run, the next weights are copied or widened to `Float` from the page cache.
///
/// The weights come block by block (`T5Weights.rowBlocks`) in the order the pass uses them
/// (`T5Parameter.linearOrder`), into a few reusable buffers, at most `slots` blocks ahead: memory
/// stays a few MB whatever the model's size. A request out of that order (never made by the
/// pass) is answered by `nil`, and the caller reads the weight itself.
///
/// Reading is the smaller of the two jobs (a `pread` copy, against BLAS packing and
/// multiplying), so for a pass alone on the machine this thread multiplies too (`multiplies`):
/// while every buffer is full it takes the block read ahead furthest from the pass among the
/// products the pass is multiplying now (`multiplyAll`), and both cores stay busy to the end.
final class WeightPrefetcher {
    /// Whether this thread multiplies blocks of the products the pass shares (`multiplyAll`).
    let multiplies: Bool
    private let state: State

    /// Starts reading the row blocks `weights` in order, at most `slots` ahead; `multiplies`: whether
    /// this thread also multiplies blocks of the products the pass shares (`multiplyAll`).
    init(_ weights: [(parameter: T5Parameter, weight: StoredWeight, rows: Range<Int>)], slots: Int, multiplies: Bool) {
        self.multiplies = multiplies
        state = State(weights, slots: slots, multiplies: multiplies)
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

    /// Multiplies every block of `group`'s weights (`blocks`, in the order they were read ahead),
    /// sharing them with the prefetching thread, and returns when all are in the outputs. A block
    /// that was not read ahead is read and multiplied here by `readAndMultiply`.
    ///
    /// - Throws: the error reading a block met, or `readAndMultiply`'s; the prefetching thread's
    ///   blocks are finished before it returns either way.
    func multiplyAll(
        _ group: ProductGroup, blocks: [(parameter: T5Parameter, rows: Range<Int>)],
        readAndMultiply: (T5Parameter, Range<Int>) throws -> Void
    ) throws {
        state.share(group)
        defer { state.stopSharing() }
        for (parameter, rows) in blocks {
            switch state.takeUnlessShared(parameter, rows) {
            case .shared: continue
            case let .taken(slot):
                defer { state.give(back: slot) }
                group.multiply(try slot.view.get(), of: parameter, block: rows)
            case nil: try readAndMultiply(parameter, rows)
            }
        }
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
        /// Whether this thread multiplies blocks of the shared products at all.
        private let multiplies: Bool
        /// The products the pass is multiplying now, whose blocks this thread may take.
        private var sharedGroup: ProductGroup?
        /// Blocks (indices into `weights`) this thread took from `sharedGroup`.
        private var takenHere: Set<Int> = []
        /// Of those, the ones it is still multiplying.
        private var multiplyingHere = 0

        init(
            _ weights: [(parameter: T5Parameter, weight: StoredWeight, rows: Range<Int>)], slots: Int, multiplies: Bool
        ) {
            self.weights = weights
            self.multiplies = multiplies
            free = (0..<max(slots, 1)).map { _ in Slot() }
        }

        func produce() {
            for index in weights.indices {
                condition.lock()
                while free.isEmpty && !stopped {
                    // Every buffer is full: multiply a block read ahead instead of waiting.
                    if let (taken, slot, group) = takeSharedBlock() {
                        condition.unlock()
                        if case let .success(view) = slot.view {
                            group.multiply(view, of: weights[taken].parameter, block: weights[taken].rows)
                        }
                        condition.lock()
                        multiplyingHere -= 1
                        free.append(slot)
                        condition.broadcast()
                        continue
                    }
                    condition.wait()
                }
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

        /// The block of the shared products furthest ahead of the pass, read without error and not
        /// yet taken, now this thread's (called with `condition` held).
        private func takeSharedBlock() -> (index: Int, slot: Slot, group: ProductGroup)? {
            guard multiplies, let group = sharedGroup else { return nil }
            let candidates = ready.indices.filter { position in
                let index = ready[position].index
                guard index > nextToConsume, group.contains(weights[index].parameter) else { return false }
                if case .success = ready[position].slot.view { return true }
                return false
            }
            guard let position = candidates.max(by: { ready[$0].index < ready[$1].index }) else { return nil }
            let entry = ready.remove(at: position)
            takenHere.insert(entry.index)
            multiplyingHere += 1
            return (entry.index, entry.slot, group)
        }

        /// What the pass gets for its next block: the buffer holding it, or word that this
        /// thread took it.
        enum Next {
            case taken(Slot)
            case shared
        }

        func share(_ group: ProductGroup) {
            condition.lock()
            sharedGroup = group
            condition.broadcast()
            condition.unlock()
        }

        /// Waits for the blocks this thread is still multiplying, then stops sharing.
        func stopSharing() {
            condition.lock()
            while multiplyingHere > 0 { condition.wait() }
            sharedGroup = nil
            takenHere.removeAll()
            condition.unlock()
        }

        /// `take`, or `.shared` when this thread took the block.
        func takeUnlessShared(_ parameter: T5Parameter, _ rows: Range<Int>) -> Next? {
            condition.lock()
            let shared =
                nextToConsume < weights.count && takenHere.contains(nextToConsume)
                && weights[nextToConsume].parameter == parameter && weights[nextToConsume].rows == rows
            if shared {
                takenHere.remove(nextToConsume)
                nextToConsume += 1
            }
            condition.unlock()
            if shared { return .shared }
            return take(parameter, rows).map { .taken($0) }
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
