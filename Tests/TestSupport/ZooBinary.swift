import Foundation

/// The result of running the built `zoo` executable.
public struct ZooRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs the `zoo` executable built next to the test bundle.
public enum ZooBinary {
    /// `.build/<triple>/debug/zoo`, found beside the running test binary (override with `ZOO_BINARY`).
    public static var url: URL {
        if let override = ProcessInfo.processInfo.environment["ZOO_BINARY"] { return URL(fileURLWithPath: override) }
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // On Linux the tests run from `<products>/zooPackageTests.xctest`; on macOS from inside a bundle.
        while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("zoo").path)
            && directory.path != "/"
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("zoo")
    }

    /// Runs `zoo arguments...` to completion and captures its output.
    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws
        -> ZooRun
    {
        let ended = try RunningZoo(arguments, in: directory, environment: environment).wait()
        return ZooRun(status: ended.status, stdout: ended.stdout, stderr: ended.stderr)
    }
}

/// A `zoo` process started in the background, for tests that act on it while it runs (signals).
public final class RunningZoo {
    public let process = Process()
    private let capture = TemporaryDirectory()

    /// Starts `zoo arguments...`; its output goes to files read by `wait()` (files rather than
    /// pipes: a child writing a lot to both streams can never block on a full pipe).
    public init(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = ZooBinary.url
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = directory }
        _ = FileManager.default.createFile(atPath: capture.path("out").path, contents: nil)
        _ = FileManager.default.createFile(atPath: capture.path("err").path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: capture.path("out"))
        process.standardError = try FileHandle(forWritingTo: capture.path("err"))
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    /// Polls every 2 ms until `condition` holds or the process has ended; true if it held.
    public func waitUntil(timeout: Double = 60, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            if !process.isRunning { return condition() }
            usleep(2_000)
        }
        return false
    }

    /// Waits for the process to end: how it ended, and what it wrote.
    public func wait() throws -> (reason: Process.TerminationReason, status: Int32, stdout: String, stderr: String) {
        process.waitUntilExit()
        return (
            process.terminationReason, process.terminationStatus,
            try String(contentsOf: capture.path("out"), encoding: .utf8),
            try String(contentsOf: capture.path("err"), encoding: .utf8)
        )
    }
}
