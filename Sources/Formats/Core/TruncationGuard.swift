internal import CZooSystem
import Dispatch
import Synchronization

/// Makes a file that is truncated while zoo reads it through its mapping an error, not a crash.
///
/// Touching a mapped page past the new end of a file raises SIGBUS, which would end the process
/// on the spot: no message, staged outputs left behind. Once `install` has run, a bus error inside
/// a `MappedFile` parks the faulting thread, removes every staged output, and hands `report` a
/// `CheckpointError.truncatedWhileReading` naming the file and the byte offset; `report` ends the
/// process (the faulting thread can never resume).
public enum TruncationGuard {
    /// Installs the guard; call once, as the program starts. Without it a truncated mapping
    /// still ends the process with SIGBUS.
    public static func install(report: @escaping @Sendable (CheckpointError) -> Never) {
        Reporter.shared.install(report)
    }

    /// Guards the mapping of `path` at `start`; returns the slot to release, `nil` if unguarded.
    static func guardMapping(_ start: UnsafeRawPointer, length: Int, path: String) -> Int32? {
        let slot = CZooSystem_registerMapping(start, length)
        guard slot >= 0 else { return nil }
        Reporter.shared.paths.withLock { $0[slot] = path }
        return slot
    }

    /// Stops guarding `slot`; call before unmapping.
    static func release(_ slot: Int32) {
        CZooSystem_unregisterMapping(slot)
        Reporter.shared.paths.withLock { _ = $0.removeValue(forKey: slot) }
    }

    /// The reader of the handler's pipe, and the path of every guarded mapping.
    private final class Reporter: Sendable {
        static let shared = Reporter()
        let paths = Mutex<[Int32: String]>([:])
        private let source = Mutex<(any DispatchSourceRead)?>(nil)

        func install(_ report: @escaping @Sendable (CheckpointError) -> Never) {
            source.withLock { source in
                guard source == nil else { return }
                let descriptor = CZooSystem_installBusErrorGuard()
                guard descriptor >= 0 else { return }  // no pipe: left to the default action
                let reader = DispatchSource.makeReadSource(
                    fileDescriptor: descriptor, queue: DispatchQueue(label: "zoo.truncated-files"))
                reader.setEventHandler { [self] in
                    var slot: Int32 = -1
                    var offset = 0
                    CZooSystem_firstBusError(&slot, &offset)
                    let path = paths.withLock { $0[slot] } ?? "a mapped file"
                    StagedOutput.discardEveryStagedOutput()
                    report(.truncatedWhileReading(path: path, offset: offset))
                }
                reader.resume()
                source = reader
            }
        }
    }
}
