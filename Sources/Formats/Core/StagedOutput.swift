import Foundation

/// An output file or directory built under a temporary name and renamed into place only when
/// complete, so a failed or interrupted run never leaves a half-written checkpoint at the
/// destination.
///
/// The staging path sits next to the destination (same file system, so the rename is atomic) and
/// is named `.<name>.zoo-partial-<pid>`.
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
    ///   `force` is false.
    public init(destination: URL, isDirectory: Bool, force: Bool) throws(CheckpointError) {
        self.destination = destination.standardizedFileURL
        self.isDirectory = isDirectory
        self.replaceExisting = force
        let parent = self.destination.deletingLastPathComponent()
        staging = parent.appendingPathComponent(".\(self.destination.lastPathComponent).zoo-partial-\(getpid())")

        if StagedOutput.existsAndIsNotEmpty(self.destination) && !force {
            throw .outputExists(path: self.destination.path)
        }
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            if manager.fileExists(atPath: staging.path) { try manager.removeItem(at: staging) }
            if isDirectory { try manager.createDirectory(at: staging, withIntermediateDirectories: false) }
        } catch {
            throw .io(path: staging.path, operation: "prepare output", errno: errno)
        }
    }

    /// Moves the finished output into place, replacing what was there (only if `force` was given).
    public func commit() throws(CheckpointError) {
        let manager = FileManager.default
        var displaced: URL?
        if manager.fileExists(atPath: destination.path) {
            if StagedOutput.existsAndIsNotEmpty(destination) && !replaceExisting {
                throw .outputExists(path: destination.path)
            }
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent(".\(destination.lastPathComponent).zoo-old-\(getpid())")
            guard rename(destination.path, aside.path) == 0 else {
                throw .io(path: destination.path, operation: "move aside", errno: errno)
            }
            displaced = aside
        }
        guard rename(staging.path, destination.path) == 0 else {
            let code = errno
            if let displaced { _ = rename(displaced.path, destination.path) }
            throw .io(path: destination.path, operation: "rename into place", errno: code)
        }
        StagedOutput.syncDirectory(destination.deletingLastPathComponent().path)
        if let displaced { try? manager.removeItem(at: displaced) }
    }

    /// Removes whatever was staged. Safe to call more than once.
    public func discard() {
        try? FileManager.default.removeItem(at: staging)
    }

    private static func existsAndIsNotEmpty(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else { return true }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return !contents.isEmpty
    }

    /// Makes the rename itself durable.
    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
