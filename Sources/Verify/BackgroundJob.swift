import Dispatch
import Foundation
import Synchronization

/// One long job on a thread of its own, started at once and joined by `wait()`; `cancel()` asks
/// it to stop early (the job checks its `CancellationFlag`).
///
/// Whoever starts a job waits for it on every path out, errors included: a job still inside
/// OpenBLAS when the process exits crashes in OpenBLAS's teardown.
final class BackgroundJob<Value: Sendable>: Sendable {
    private let result = Mutex<Value?>(nil)
    private let finished = DispatchSemaphore(value: 0)
    /// Set by `cancel()`; the job reads it.
    let cancellation = CancellationFlag()

    /// Starts `body` on a new thread named `name`.
    init(name: String, _ body: @escaping @Sendable (CancellationFlag) -> Value) {
        runningJobs.add(1, ordering: .sequentiallyConsistent)
        let thread = Thread { [self] in
            let value = body(cancellation)
            result.withLock { $0 = value }
            runningJobs.subtract(1, ordering: .sequentiallyConsistent)
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Waits for the job and returns what it produced; may be called again (it returns at once).
    func wait() -> Value {
        finished.wait()
        finished.signal()
        return result.withLock { value in
            guard let value else { preconditionFailure("a finished job stored its result") }
            return value
        }
    }

    /// Asks the job to stop at its next check, then waits for it.
    func cancelAndWait() {
        cancellation.cancel()
        _ = wait()
    }
}

private let runningJobs = Atomic<Int>(0)

/// Every `BackgroundJob` of the process.
enum BackgroundJobs {
    /// Jobs started and not yet finished (zero once every operation that started jobs has returned
    /// or thrown: what the tests check).
    static var running: Int { runningJobs.load(ordering: .sequentiallyConsistent) }
}

/// Whether a job has been asked to stop; checked between the steps of long work.
public final class CancellationFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)

    public init() {}

    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    /// - Throws: `CancellationError` once cancelled.
    public func check() throws(CancellationError) {
        if isCancelled { throw CancellationError() }
    }
}
