import Foundation

/// A local HTTP mirror (`Tests/Support/range_server.py`, Python's standard library) serving a
/// directory on 127.0.0.1 with Range support; stopped when released, and by itself after a minute.
public final class MirrorServer: @unchecked Sendable {
    public let url: URL
    private let process: Process

    /// Serves `directory`; `cutAfter` makes the first response for each file stop after that many bytes.
    public init(serving directory: URL, cutAfter: Int? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Fixtures.repository.appendingPathComponent("Tests/Support/range_server.py").path,
                directory.path, "--lifetime", "60",
            ] + (cutAfter.map { ["--cut-after", String($0)] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The first line is the port.
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data([0x0A]) {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        guard let address = URL(string: "http://127.0.0.1:\(port)") else { throw CocoaError(.fileReadCorruptFile) }
        url = address
    }

    deinit {
        // SIGKILL: the test process may block SIGTERM, and a spawned child inherits that mask.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
