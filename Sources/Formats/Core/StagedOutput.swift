import Dispatch
import Foundation

/// An output file or directory built under a temporary name and renamed into place only when
/// complete, so a failed or interrupted run never leaves a half-written checkpoint at the
/// destination.
///
/// The staging path sits next to the destination (same file system, so the rename is atomic) and
/// is named `.<name>.zoo-partial-<pid>`; a sidecar of a single file (its `.sha256`) is staged as
/// `.<name><suffix>.zoo-partial-<pid>` and renamed in the same commit. Staged outputs are
/// removed when the process is stopped by SIGINT, SIGTERM or SIGHUP (once the CLI called
/// `removeOnSignals()`), and a staged output left by a process that no longer exists is removed
/// by the next run that writes the same name.
public struct StagedOutput: Sendable {
    /// Where the output will be once committed.
    public let destination: URL
    /// Where it is being built.
    public let staging: URL
    public let isDirectory: Bool
    private let replaceExisting: Bool

    /// Prepares to write `destination`.
    ///
    /// - Parameters:
    ///   - isDirectory: whether the output is a directory (created empty at the staging path).
    ///   - force: replace an existing non-empty destination when committing.
    /// - Throws: `CheckpointError.outputExists` if the destination exists, is not empty, and
    ///   `force` is false; `.io` naming the path when the staging area cannot be made.
    public init(destination: URL, isDirectory: Bool, force: Bool) throws(CheckpointError) {
        self.destination = destination.standardizedFileURL
        self.isDirectory = isDirectory
        self.replaceExisting = force
        let parent = self.destination.deletingLastPathComponent()
        staging = parent.appendingPathComponent(Self.stagingName(self.destination.lastPathComponent, getpid()))

        if StagedOutput.existsAndIsNotEmpty(self.destination) && !force {
            throw .outputExists(path: self.destination.path)
        }
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .io(path: parent.path, operation: "create the output's directory", errno: Self.posixCode(of: error))
        }
        Self.removeStalePartials(of: self.destination)
        discard()
        let staging = self.staging
        let created = ActiveOutputs.shared.add(self) {
            isDirectory ? Syscalls.makeDirectory(staging.path, mode: 0o755) : .success(())
        }
        if case let .failure(error) = created {
            ActiveOutputs.shared.remove(self)
            throw .io(path: staging.path, operation: "create the staging directory", errno: error.code)
        }
    }

    /// Where the sidecar `destination + suffix` (`model.safetensors.sha256`) is staged.
    public func sidecarStaging(suffix: String) -> URL {
        destination.deletingLastPathComponent().appendingPathComponent(
            Self.stagingName(destination.lastPathComponent + suffix, getpid()))
    }

    /// Moves the finished output into place, replacing what was there (only if `force` was given),
    /// then the staged sidecars with the given suffixes; if a sidecar cannot be placed, the output
    /// is taken back out, so the destination holds both or neither.
    public func commit(sidecars suffixes: [String] = []) throws(CheckpointError) {
        let manager = FileManager.default
        var displaced: URL?
        if manager.fileExists(atPath: destination.path) {
            if StagedOutput.existsAndIsNotEmpty(destination) && !replaceExisting {
                throw .outputExists(path: destination.path)
            }
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).zoo-old-\(getpid())")
            if case let .failure(error) = Syscalls.renameItem(destination.path, to: aside.path) {
                throw .io(path: destination.path, operation: "move aside", errno: error.code)
            }
            displaced = aside
        }
        if case let .failure(error) = Syscalls.renameItem(staging.path, to: destination.path) {
            if let displaced { _ = Syscalls.renameItem(displaced.path, to: destination.path) }
            throw .io(path: destination.path, operation: "rename into place", errno: error.code)
        }
        for suffix in suffixes {
            let target = destination.path + suffix
            if case let .failure(error) = Syscalls.renameItem(sidecarStaging(suffix: suffix).path, to: target) {
                // Best effort back to where it was: the error already says what failed.
                _ = Syscalls.renameItem(destination.path, to: staging.path)
                if let displaced { _ = Syscalls.renameItem(displaced.path, to: destination.path) }
                throw .io(path: target, operation: "rename into place", errno: error.code)
            }
        }
        StagedOutput.syncDirectory(destination.deletingLastPathComponent().path)
        if let displaced { try? manager.removeItem(at: displaced) }
        ActiveOutputs.shared.remove(self)
    }

    /// Removes whatever was staged (the output and its sidecars). Safe to call more than once.
    public func discard() {
        Self.removeStaged(of: destination, pid: getpid())
        ActiveOutputs.shared.remove(self)
    }

    /// Makes SIGINT, SIGTERM and SIGHUP remove every output still staged, then end the process
    /// as the signal would have (so the shell sees status 128 + the signal's number). Call once,
    /// at the start of a command that writes.
    public static func removeOnSignals() {
        ActiveOutputs.shared.installSignalHandlers()
    }

    /// Removes every output this process has staged and not committed, for a process about to
    /// end on an error it cannot recover from (see `TruncationGuard`).
    static func discardEveryStagedOutput() {
        ActiveOutputs.shared.removeAll()
    }

    /// Blocks for good if a signal is being handled: a command whose output was just removed under
    /// it fails, and must not exit with that failure before the signal ends the process.
    public static func waitIfStopping() {
        while ActiveOutputs.shared.isStopping { sleep(1) }
    }

    // MARK: - Names and cleanup

    private static func stagingName(_ name: String, _ pid: pid_t) -> String {
        ".\(name).zoo-partial-\(pid)"
    }

    /// Removes `pid`'s staged output of `destination` and its staged sidecars.
    fileprivate static func removeStaged(of destination: URL, pid: pid_t) {
        let parent = destination.deletingLastPathComponent()
        let prefix = ".\(destination.lastPathComponent)."
        let suffix = ".zoo-partial-\(pid)"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        // A writer thread may still be creating files in a staged directory while it is removed
        // (a signal arrives mid-write): moving the directory aside first makes those creations
        // fail, instead of racing the recursive removal and leaving a directory behind.
        let aside = parent.appendingPathComponent("\(prefix)removing\(suffix)")
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(suffix) {
            var doomed = parent.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            if entry != aside.lastPathComponent,
                FileManager.default.fileExists(atPath: doomed.path, isDirectory: &isDirectory), isDirectory.boolValue,
                case .success = Syscalls.renameItem(doomed.path, to: aside.path)
            {
                doomed = aside
            }
            try? FileManager.default.removeItem(at: doomed)
        }
    }

    /// Removes what another run writing `destination` (or a sidecar of it) staged or moved aside,
    /// if that process no longer exists: a run killed by SIGKILL or a power cut leaves it behind.
    private static func removeStalePartials(of destination: URL) {
        let parent = destination.deletingLastPathComponent()
        let prefix = ".\(destination.lastPathComponent)."
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        for entry in entries where entry.hasPrefix(prefix) {
            guard let marker = entry.range(of: ".zoo-partial-", options: .backwards),
                let pid = pid_t(entry[marker.upperBound...]), pid > 0, pid != getpid(), kill(pid, 0) == -1,
                errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(entry))
        }
    }

    private static func existsAndIsNotEmpty(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else { return true }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return !contents.isEmpty
    }

    /// Makes the rename itself durable. Best effort: the output is in place and complete either
    /// way, and some file systems refuse to open or fsync a directory.
    private static func syncDirectory(_ path: String) {
        guard case let .success(descriptor) = Syscalls.openFile(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) else {
            return
        }
        _ = Syscalls.synchronize(descriptor)
        _ = Syscalls.closeFile(descriptor)
    }

    /// The POSIX error behind a Foundation file error (the global `errno` is long gone by then).
    public static func posixCode(of error: any Error) -> Int32 {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        switch error.code {
        case CocoaError.fileWriteOutOfSpace.rawValue: return ENOSPC
        case CocoaError.fileWriteNoPermission.rawValue, CocoaError.fileReadNoPermission.rawValue: return EACCES
        case CocoaError.fileNoSuchFile.rawValue, CocoaError.fileReadNoSuchFile.rawValue: return ENOENT
        case CocoaError.fileWriteFileExists.rawValue: return EEXIST
        case CocoaError.fileWriteVolumeReadOnly.rawValue: return EROFS
        default: return EIO
        }
    }
}

/// The outputs this process has staged and not yet committed or discarded, for the signal
/// handlers to remove.
private final class ActiveOutputs: @unchecked Sendable {
    // @unchecked: every access to `outputs` and `sources` holds `lock`.
    static let shared = ActiveOutputs()

    private let lock = NSLock()
    private var outputs: [URL: Int] = [:]
    private var sources: [any DispatchSourceSignal] = []
    private var stopping = false

    var isStopping: Bool { lock.withLock { stopping } }
    private let queue = DispatchQueue(label: "zoo.signals")

    /// Records `output` and runs `create` (which makes its staging directory) under the lock the
    /// signal handler takes, so a signal either sees the staged directory and removes it, or
    /// arrives first, in which case nothing is created and this call waits for the signal to end
    /// the process.
    func add(_ output: StagedOutput, create: () -> Result<Void, Errno>) -> Result<Void, Errno> {
        let result: Result<Void, Errno>? = lock.withLock {
            guard !stopping else { return nil }
            outputs[output.destination, default: 0] += 1
            return create()
        }
        guard let result else {
            StagedOutput.waitIfStopping()
            preconditionFailure("a stopping process resumed")
        }
        return result
    }

    func remove(_ output: StagedOutput) {
        lock.withLock {
            guard let count = outputs[output.destination] else { return }
            outputs[output.destination] = count > 1 ? count - 1 : nil
        }
    }

    func installSignalHandlers() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
                // The default action would end the process at once; the source gets the signal instead.
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
                source.setEventHandler { [weak self] in self?.stop(by: signalNumber) }
                source.resume()
                sources.append(source)
            }
        }
    }

    /// Removes every staged output; from then on no new one is staged (`add` waits for good).
    func removeAll() {
        let destinations = lock.withLock {
            stopping = true
            return Array(outputs.keys)
        }
        // A writer thread may still be creating a file in a staged directory: try again.
        for _ in 0..<3 {
            for destination in destinations { StagedOutput.removeStaged(of: destination, pid: getpid()) }
        }
    }

    /// Removes every staged output, then lets the signal end the process.
    private func stop(by signalNumber: Int32) {
        removeAll()
        signal(signalNumber, SIG_DFL)
        // Dispatch's threads block signals, and a process can inherit a mask that blocks them
        // (Foundation's Process spawns children from such threads): unblock the signal on this
        // thread so that raising it here ends the process at once.
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signalNumber)
        pthread_sigmask(SIG_UNBLOCK, &only, nil)
        raise(signalNumber)
    }
}
