import Foundation
import TestSupport
import Testing

@testable import Formats
@testable import Verify

/// The SHA-256 a `BackgroundFileSink` takes of the bytes it writes, which the manifest of a
/// conversion uses instead of reading its output back: always the digest of the file's bytes as
/// `FileDigest` reads them, and never used for a file that changed after it was written.
@Suite struct WrittenFileDigestsTests {
    /// Writes `count` bytes of a fixed pattern through a sink, in writes of awkward sizes (some
    /// straight into its buffers) that cross several of its 4 MB buffers.
    @discardableResult
    static func write(_ path: String, count: Int, digesting: Bool = true, patches: [(Int, [UInt8])] = []) throws
        -> WrittenDigest?
    {
        let sink = try BackgroundFileSink(creating: path, digesting: digesting)
        var output = sink
        var written = 0
        var state: UInt32 = 12_345
        while written < count {
            let size = min(written % 3 == 0 ? 1_000_003 : 77_777, count - written)
            if written % 2 == 0 {
                let bytes = (0..<size).map { _ in
                    state = state &* 1_664_525 &+ 1_013_904_223
                    return UInt8(truncatingIfNeeded: state >> 24)
                }
                try output.write(bytes)
            } else {
                try output.write(count: size) { buffer in
                    for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 31 &+ written) }
                }
            }
            written += size
        }
        return try sink.close(patches: patches.map { (offset: $0.0, bytes: $0.1) })
    }

    @Test func theRecordedDigestIsTheFiles() throws {
        let temporary = TemporaryDirectory()
        var digests = WrittenFileDigests()
        for count in [0, 1, 4 << 20, 9_876_543] {
            let path = temporary.path("file-\(count)").path
            digests.record(try #require(try Self.write(path, count: count)))
            #expect(digests.digest(of: path) == (try FileDigest.sha256(path: path)), "\(count) bytes")
        }
        #expect(WrittenFileDigests().digest(of: temporary.path("file-1").path) == nil, "digests are values")
    }

    @Test func aFileChangedAfterItWasWrittenIsHashedAgain() throws {
        let temporary = TemporaryDirectory()
        var digests = WrittenFileDigests()
        let appended = temporary.path("model.safetensors").path
        digests.record(try #require(try Self.write(appended, count: 5_000_000)))
        let handle = try #require(FileHandle(forWritingAtPath: appended))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([1]))
        try handle.close()
        let touched = temporary.path("other.safetensors").path
        digests.record(try #require(try Self.write(touched, count: 5_000_000)))
        // Same size, same inode: one byte rewritten in place, and a new modification time.
        let rewrite = try #require(FileHandle(forWritingAtPath: touched))
        try rewrite.write(contentsOf: Data([0xFF]))
        try rewrite.close()
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1)], ofItemAtPath: touched)

        #expect(digests.digest(of: appended) == nil)
        #expect(digests.digest(of: touched) == nil)
        // And the manifest of the directory is the one of the bytes now there.
        digests.record(try #require(try Self.write(temporary.path("unchanged.bin").path, count: 3_000_000)))
        let entries = try ChecksumManifest.hash(
            ["model.safetensors", "other.safetensors", "unchanged.bin"], in: temporary.url, written: digests)
        for entry in entries {
            #expect(entry.digest == (try FileDigest.sha256(path: temporary.path(entry.path).path)), "\(entry.path)")
        }
    }

    @Test func aPatchedOrUndigestedFileIsNotRecorded() throws {
        let temporary = TemporaryDirectory()
        let patched = temporary.path("patched.bin").path
        #expect(try Self.write(patched, count: 2_000_000, patches: [(100, [9, 9, 9, 9])]) == nil)
        let undigested = temporary.path("undigested.bin").path
        #expect(try Self.write(undigested, count: 2_000_000, digesting: false) == nil)
    }
}
