import ArgumentParser
import Foundation
import Verify

/// `zoo checksum PATH [--check]`: SHA-256 manifests in the `sha256sum` format.
struct Checksum: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write or check a SHA256SUMS manifest (the sha256sum format) for a model directory.")

    @Argument(help: "A model directory (or, with --check, a manifest file or a directory holding SHA256SUMS).")
    var path: String

    @Flag(help: "Check the manifest instead of writing it.")
    var check = false

    func run() throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if check {
            let manifest = isDirectory.boolValue ? url.appendingPathComponent(ChecksumManifest.fileName) : url
            let entries = try ChecksumManifest.check(manifest)
            for entry in entries { print("\(entry.path): \(entry.passed ? "OK" : "FAILED")") }
            if entries.contains(where: { !$0.passed }) { throw ExitCode.failure }
        } else {
            guard isDirectory.boolValue else { throw ValidationError("\(path) is not a directory") }
            let entries = try ChecksumManifest.write(for: url)
            print(ChecksumManifest.text(entries), terminator: "")
        }
    }
}
