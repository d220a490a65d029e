import Crypto
import Dispatch
import Formats
import Foundation

/// SHA-256 manifests in the format `sha256sum` reads and writes: `<hex>  <relative path>` per line.
public enum ChecksumManifest {
    /// The manifest file zoo writes inside a model directory.
    public static let fileName = "SHA256SUMS"

    /// One file's result when checking a manifest.
    public struct Entry: Sendable {
        public let path: String
        public let expected: String
        public let actual: String?
        public var passed: Bool { actual == expected }
    }

    /// Hashes `files` (paths relative to `directory`), two at a time on two cores, in order.
    public static func hash(_ files: [String], in directory: URL) throws -> [(path: String, digest: String)] {
        let results = DigestResults(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let path = directory.appendingPathComponent(files[index]).path
            results.store(index, Result { try FileDigest.sha256(path: path) })
        }
        return try zip(files, results.values()).map { ($0, try $1.get()) }
    }

    /// The manifest text for `entries`.
    public static func text(_ entries: [(path: String, digest: String)]) -> String {
        entries.map { "\($0.digest)  \($0.path)\n" }.joined()
    }

    /// Writes a manifest of every regular file in `directory` (the manifest itself excluded).
    @discardableResult
    public static func write(for directory: URL) throws -> [(path: String, digest: String)] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0 != fileName && !$0.hasPrefix(".") }
            .filter { name in
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(
                    atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
                return exists && !isDirectory.boolValue
            }
            .sorted()
        let entries = try hash(files, in: directory)
        try Data(text(entries).utf8).write(to: directory.appendingPathComponent(fileName))
        return entries
    }

    /// The manifest of a single-file checkpoint: `<file>.sha256` beside it.
    public static func sidecar(of file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".sha256")
    }

    /// Writes `<file>.sha256` (one `sha256sum` line) beside `file`.
    public static func writeSidecar(for file: URL) throws {
        let digest = try FileDigest.sha256(path: file.path)
        try Data(text([(file.lastPathComponent, digest)]).utf8).write(to: sidecar(of: file), options: .atomic)
    }

    /// The manifest that covers the checkpoint the user named: `SHA256SUMS` inside a model
    /// directory, or the `.sha256` beside a single file; `nil` if there is none.
    public static func manifest(for checkpoint: URL) -> URL? {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: checkpoint.path, isDirectory: &isDirectory)
        let candidate = isDirectory.boolValue ? checkpoint.appendingPathComponent(fileName) : sidecar(of: checkpoint)
        return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
    }

    /// Checks the manifest at `manifest` against the files beside it.
    ///
    /// - Throws: `VerifyError.invalidManifest` for a line that is not `<64 hex>  <path>`.
    public static func check(_ manifest: URL) throws -> [Entry] {
        let directory = manifest.deletingLastPathComponent()
        let text = try String(contentsOf: manifest, encoding: .utf8)
        var expected: [(String, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 64, parts[0].allSatisfy(\.isHexDigit) else {
                throw VerifyError.invalidManifest(path: manifest.path, line: number + 1)
            }
            // sha256sum writes "  " (text) or " *" (binary) between digest and name.
            let name = String(parts[1].drop { $0 == " " || $0 == "*" })
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw VerifyError.invalidManifest(path: manifest.path, line: number + 1)
            }
            expected.append((name, parts[0].lowercased()))
        }
        let listed = expected
        let results = DigestResults(count: listed.count)
        DispatchQueue.concurrentPerform(iterations: listed.count) { index in
            results.store(
                index, Result { try FileDigest.sha256(path: directory.appendingPathComponent(listed[index].0).path) })
        }
        return zip(listed, results.values()).map { Entry(path: $0.0, expected: $0.1, actual: try? $1.get()) }
    }
}

/// Results filled in by concurrent workers, one slot each.
private final class DigestResults: @unchecked Sendable {
    // @unchecked: each worker writes only its own slot, under the lock.
    private var slots: [Result<String, any Error>?]
    private let lock = NSLock()

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func store(_ index: Int, _ result: Result<String, any Error>) {
        lock.withLock { slots[index] = result }
    }

    func values() -> [Result<String, any Error>] {
        lock.withLock { slots.map { $0 ?? .failure(VerifyError.invalidBatch("not hashed")) } }
    }
}
