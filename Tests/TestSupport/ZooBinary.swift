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
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let directory { process.currentDirectoryURL = directory }
        // Files rather than pipes: a child writing a lot to both streams can never block on a full pipe.
        let capture = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: capture.path("out").path, contents: nil)
        _ = FileManager.default.createFile(atPath: capture.path("err").path, contents: nil)
        let out = try FileHandle(forWritingTo: capture.path("out"))
        let err = try FileHandle(forWritingTo: capture.path("err"))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ZooRun(
            status: process.terminationStatus,
            stdout: try String(contentsOf: capture.path("out"), encoding: .utf8),
            stderr: try String(contentsOf: capture.path("err"), encoding: .utf8))
    }
}
