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
    ///
    /// - Parameter written: digests taken as the files were written: a file still as it was written
    ///   is not read back.
    public static func hash(_ files: [String], in directory: URL, written: WrittenFileDigests = .init()) throws
        -> [(path: String, digest: String)]
    {
        let results = ConcurrentResults<Result<String, any Error>>(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { index in
            let path = directory.appendingPathComponent(files[index]).path
            results.store(index, Result { try written.digest(of: path) ?? FileDigest.sha256(path: path) })
        }
        return try zip(files, results.values()).map { ($0, try $1.get()) }
    }

    /// The manifest text for `entries`.
    public static func text(_ entries: [(path: String, digest: String)]) -> String {
        entries.map { "\($0.digest)  \($0.path)\n" }.joined()
    }

    /// Writes a manifest of every regular file in `directory` (the manifest itself excluded).
    ///
    /// The manifest is staged beside its name, fsync'd and renamed into place, so a failure at
    /// any byte (a full disk) leaves the previous manifest, or none, never a partial one.
    ///
    /// - Throws: `CheckpointError.io` naming the file and errno.
    @discardableResult
    public static func write(for directory: URL, written: WrittenFileDigests = .init()) throws -> [(
        path: String, digest: String
    )] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0 != fileName && !$0.hasPrefix(".") }
            .filter { name in (try? FileKind.of(directory.appendingPathComponent(name).path)) == .regularFile }
            .sorted()
        let entries = try hash(files, in: directory, written: written)
        let staged = try StagedOutput(
            destination: directory.appendingPathComponent(fileName), isDirectory: false, force: true)
        do {
            try FileSink.writeNewFile(text(entries), at: staged.staging.path)
            try staged.commit()
        } catch {
            staged.discard()
            throw error
        }
        return entries
    }

    /// Writes the manifest of a staged output inside its staging area: `SHA256SUMS` in a staged
    /// directory, or the staged `<file>.sha256` sidecar of a staged single file.
    ///
    /// - Parameter written: digests taken as the files were written (`ConversionReport.digests`).
    /// - Returns: the sidecar suffixes to commit with the output (`[".sha256"]` for a file).
    public static func writeStaged(for staged: StagedOutput, written: WrittenFileDigests = .init()) throws -> [String] {
        if staged.isDirectory {
            try write(for: staged.staging, written: written)
            return []
        }
        let digest = try written.digest(of: staged.staging.path) ?? FileDigest.sha256(path: staged.staging.path)
        try FileSink.writeNewFile(
            text([(staged.destination.lastPathComponent, digest)]),
            at: staged.sidecarStaging(suffix: sidecarSuffix).path)
        return [sidecarSuffix]
    }

    /// The sidecar manifest of a single-file checkpoint: `<file>.sha256` beside it.
    public static let sidecarSuffix = ".sha256"

    /// The manifest of a single-file checkpoint: `<file>.sha256` beside it.
    public static func sidecar(of file: URL) -> URL {
        file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + sidecarSuffix)
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
    /// - Throws: `VerifyError.invalidManifest` for a line that is not `<64 hex>  <path>` (or text
    ///   that is not UTF-8), `.emptyManifest` for one that lists nothing.
    public static func check(_ manifest: URL) throws -> [Entry] {
        let directory = manifest.deletingLastPathComponent()
        let file = try MappedFile(path: manifest.path)
        guard let text = file.withBytes(in: 0..<file.size, { String(validating: $0, as: UTF8.self) }) else {
            throw VerifyError.invalidManifest(path: manifest.path, line: 1)
        }
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
        guard !expected.isEmpty else { throw VerifyError.emptyManifest(path: manifest.path) }
        let listed = expected
        let results = ConcurrentResults<Result<String, any Error>>(count: listed.count)
        DispatchQueue.concurrentPerform(iterations: listed.count) { index in
            results.store(
                index, Result { try FileDigest.sha256(path: directory.appendingPathComponent(listed[index].0).path) })
        }
        return zip(listed, results.values()).map { Entry(path: $0.0, expected: $0.1, actual: try? $1.get()) }
    }
}
