import ArgumentParser
import Formats
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

    @Flag(help: "Replace an existing manifest even if the files no longer match it.")
    var force = false

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
            // A manifest the files no longer match records a change; rewriting it would hide it.
            let existing = url.appendingPathComponent(ChecksumManifest.fileName)
            if !force, FileManager.default.fileExists(atPath: existing.path) {
                let hint = "(check the files, or pass --force to write a new manifest)"
                let entries: [ChecksumManifest.Entry]
                do { entries = try ChecksumManifest.check(existing) } catch let error as VerifyError {
                    throw ValidationFailure(message: "\(error) \(hint)")  // empty or unreadable
                }
                if let changed = entries.first(where: { !$0.passed }) {
                    let outdated = VerifyError.manifestOutdated(path: existing.path, file: changed.path)
                    throw ValidationFailure(message: "\(outdated) \(hint)")
                }
            }
            // Hash only bytes that pass the checksums their format stores (zip CRC-32, TensorFlow CRC-32C).
            do {
                _ = try Checkpoint.open(url, checksums: .verifyOnOpen)
            } catch CheckpointError.noCheckpointInDirectory {
                // Not a checkpoint directory: nothing stores checksums to check.
            }
            let entries = try ChecksumManifest.write(for: url)
            print(ChecksumManifest.text(entries), terminator: "")
        }
    }
}
