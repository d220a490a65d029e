@_spi(Fuzzing) import Formats
import Foundation
import TestSupport
import Testing

/// Every input a `FuzzTesting/` harness crashed or timed out on, replayed the way that harness
/// feeds it: each must now be refused with the error its manifest names (or, with none named, be
/// read), and never trap.
///
/// `Tests/Fixtures/fuzz/<harness>/<name>` holds what the reader saw (written by the harness with
/// `ZOO_FUZZ_SCRATCH`): a file for safetensors, torchzip, legacy, pickle and gguf, a directory for
/// tensorflow (`model.ckpt.index` and its shards) and json (`model.safetensors.index.json`).
@Suite struct FuzzCrashReplayTests {
    @Test(arguments: try Fixtures.manifest("fuzz"))
    func crashInputIsRefused(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("fuzz/\(entry.file)")
        let harness = entry.file.split(separator: "/").first.map(String.init) ?? ""
        // An empty error: a timeout input that is valid, and must now be read (quickly).
        if entry.error.isEmpty {
            try Self.replay(harness, url)
            return
        }
        let error = #expect(throws: (any Error).self, "\(entry.file) was accepted") {
            try Self.replay(harness, url)
        }
        let name = (error as? any CaseNamed)?.caseName ?? error.map { "\(type(of: $0))" }
        #expect(name == entry.error, "\(entry.file): \(error.map { String(describing: $0) } ?? "")")
    }

    /// Opens `url` as `harness` does and reads every byte of every tensor.
    static func replay(_ harness: String, _ url: URL) throws {
        switch harness {
        case "safetensors": try readAll(SafetensorsReader.open(url).tensors)
        case "torchzip": try readAll(TorchZipReader.open(url).tensors)
        case "legacy": try readAll(TorchLegacyReader.open(url).tensors)
        case "pickle":
            let bytes = try Array(Data(contentsOf: url))
            try bytes.withUnsafeBytes {
                try readAll(TorchZipReader.tensors(fromPickle: $0, maxStorageBytes: 1 << 20).tensors)
            }
        case "tensorflow":
            let index = url.appendingPathComponent("model.ckpt.index")
            for checksums in [ChecksumPolicy.verifyOnOpen, .verifyWhenRead] {
                try readAll(TensorBundle.open(index: index, checksums: checksums).tensors)
            }
        case "gguf": try readAll(GGUFReader.open(url).tensors)
        case "json":
            let index = url.appendingPathComponent(ShardedSafetensors.indexFileName)
            _ = try JSONParser.parse(Array(Data(contentsOf: index)))
            try readAll(ShardedSafetensors.open(index).tensors)
        default:
            Issue.record("no harness '\(harness)'")
        }
    }

    private static func readAll(_ tensors: [TensorRef]) throws {
        for tensor in tensors {
            try tensor.forEachVerifiedChunk { _ in }
            _ = tensor.withUnsafeBytes { CRC32.checksum($0) }
        }
    }
}
