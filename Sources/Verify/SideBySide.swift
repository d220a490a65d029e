internal import CZooSystem
import Foundation
import Synchronization

/// A few long, independent jobs run side by side, each on a thread of its own (the first on the
/// calling thread), their results returned in order.
///
/// Not `DispatchQueue.concurrentPerform`: called from inside another `concurrentPerform` (the
/// parity check inside a conversion's verification), that runs its iterations one after another
/// on the calling thread, and a core sat idle for a third of the parity check (measured with
/// `perf`). Threads of their own are scheduled by the kernel, nested or not; a job that splits
/// its work further runs the pieces on threads of their own too (`BackgroundItems`).
enum SideBySide {
    static func run<Value: Sendable>(_ jobs: [@Sendable () -> Value]) -> [Value] {
        guard let first = jobs.first else { return [] }
        let results = ConcurrentResults<Value>(count: jobs.count)
        let finished = DispatchGroup()
        for (index, job) in jobs.enumerated().dropFirst() {
            finished.enter()
            let thread = Thread {
                results.store(index, job())
                finished.leave()
            }
            thread.name = "zoo-verify-\(index)"
            thread.start()
        }
        results.store(0, first())
        finished.wait()
        return results.values()
    }
}

/// Work that may wait: `count` independent items run by `threads` threads of their own at a lower
/// scheduling priority, so that the jobs beside them that cannot be split (the forward passes,
/// SHA-256 of a file) get the cores first and the items fill whatever time is left.
///
/// The tensor comparison runs this way during a conversion's verification: at equal priority the
/// kernel shared the cores among every runnable thread, the converted model's forward pass
/// finished last, alone on one core, and the other sat idle for a sixth of the check (measured
/// with `perf`).
enum BackgroundItems {
    /// Calls `body` with every index in `0..<count`, each once, and returns when all are done.
    static func forEach(_ count: Int, threads: Int = 2, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let next = Atomic<Int>(0)
        let finished = DispatchGroup()
        for number in 0..<min(threads, count) {
            finished.enter()
            let thread = Thread {
                lowerPriorityOfThisThread()
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    guard index < count else { break }
                    body(index)
                }
                finished.leave()
            }
            thread.name = "zoo-background-\(number)"
            thread.start()
        }
        finished.wait()
    }

    /// How much nicer than the rest of zoo the item threads are (best effort: refused, they run
    /// at the same priority, which is only slower).
    private static let niceness: Int32 = 10

    private static func lowerPriorityOfThisThread() {
        _ = CZooSystem_lowerThisThreadsPriority(niceness)
    }
}
