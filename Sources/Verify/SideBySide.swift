import Foundation

/// A few long, independent jobs run side by side, each on a thread of its own (the first on the
/// calling thread), their results returned in order.
///
/// Not `DispatchQueue.concurrentPerform`: called from inside another `concurrentPerform` (the
/// parity check inside a conversion's verification), that runs its iterations one after another
/// on the calling thread, and a core sat idle for a third of the parity check (measured with
/// `perf`). Threads of their own are scheduled by the kernel, nested or not; jobs that split
/// their work further (the tensor comparison) still use `concurrentPerform` inside.
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
