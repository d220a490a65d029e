import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct TensorBundleTests {
    /// The sample's tensors plus every dtype, written as a 2+-shard bundle.
    private func writeBundle(in directory: TemporaryDirectory, shardSize: Int = 600_000) throws -> (URL, [TensorRef]) {
        let sample = try Checkpoint.open(Fixtures.sample).tensors
        let dtypes = try Checkpoint.open(Fixtures.url("dtypes.safetensors")).tensors
        let tensors = sample + dtypes
        let prefix = directory.path("model.ckpt-524288")
        try TensorBundle.write(tensors, prefix: prefix, shardSize: shardSize)
        return (prefix, tensors)
    }

    @Test func roundTripsThroughShardsBitForBit() throws {
        let directory = TemporaryDirectory()
        let (prefix, tensors) = try writeBundle(in: directory)
        let names = directory.contents()
        #expect(names.contains("checkpoint") && names.contains("model.ckpt-524288.index"))
        #expect(names.filter { $0.contains(".data-") }.count >= 3)
        for location in [prefix, URL(fileURLWithPath: prefix.path + ".index"), directory.url] {
            let checkpoint = try Checkpoint.open(location)
            #expect(checkpoint.format == .tensorflowBundle)
            #expect(checkpoint.tensors.count == tensors.count)
            for tensor in tensors {
                let read = try #require(checkpoint.tensor(named: tensor.name), "\(tensor.name)")
                #expect(read.spec == tensor.spec && read.firstDifference(from: tensor) == nil, "\(tensor.name)")
            }
        }
    }

    @Test func aCorruptedTensorFailsItsCRC32C() throws {
        let directory = TemporaryDirectory()
        let (prefix, _) = try writeBundle(in: directory)
        let shard = directory.path("model.ckpt-524288.data-00000-of-00004")
        var bytes = try Data(contentsOf: shard)
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: shard)
        #expect(throws: CheckpointError.self) { try Checkpoint.open(prefix) }
        // Checked as it is read otherwise: opening succeeds, reading the tensor fails.
        let lazy = try Checkpoint.open(prefix, checksums: .verifyWhenRead)
        var failures = 0
        for tensor in lazy.tensors {
            do { try tensor.forEachVerifiedChunk { _ in } } catch { failures += 1 }
        }
        #expect(failures == 1)
    }

    @Test func aMissingOrTruncatedShardIsAnError() throws {
        let directory = TemporaryDirectory()
        let (prefix, _) = try writeBundle(in: directory)
        let shard = directory.path("model.ckpt-524288.data-00001-of-00004")
        let bytes = try Data(contentsOf: shard)
        try bytes.prefix(bytes.count - 10).write(to: shard)
        #expect(throws: TensorFlowError.self) { try Checkpoint.open(prefix) }
        do { _ = try Checkpoint.open(prefix) } catch let error as TensorFlowError {
            #expect(error.caseName == "entryOutOfBounds")
        }
        try FileManager.default.removeItem(at: shard)
        do { _ = try Checkpoint.open(prefix) } catch let error as TensorFlowError {
            #expect(error.caseName == "missingShard")
        }
    }

    /// An index whose entries are given as raw proto bytes.
    private func rawBundle(_ directory: TemporaryDirectory, header: BundleHeader, entries: [(String, [UInt8])]) throws
        -> URL
    {
        let table = SSTableWriter.table(
            [([], BundleProtos.encode(header))]
                + entries.map { (Array($0.0.utf8), $0.1) }.sorted { $0.0.lexicographicallyPrecedes($1.0) })
        let prefix = directory.path("bad.ckpt")
        try Data(table).write(to: directory.path("bad.ckpt.index"))
        try Data(count: 64).write(to: directory.path(TensorBundle.shardName(prefix: "bad.ckpt", 0, of: 1)))
        return prefix
    }

    @Test func malformedHeadersAndEntriesAreRefused() throws {
        let entry = BundleProtos.encode(
            BundleEntry(dataType: 1, shape: [4], shardID: 0, offset: 0, size: 16, maskedCRC32C: 0))
        let cases: [(BundleHeader, [(String, [UInt8])], String)] = [
            (BundleHeader(shardCount: Int32.max), [("a", entry)], "invalidHeader"),
            (BundleHeader(shardCount: 0), [("a", entry)], "invalidHeader"),
            // Cut inside the size field: the proto still parses, and the size no longer fits the shape.
            (BundleHeader(shardCount: 1), [("a", Array(entry.dropLast(2)))], "entrySizeMismatch"),
            (BundleHeader(shardCount: 1, minConsumerVersion: 2), [("a", entry)], "unsupportedVersion"),
            (BundleHeader(shardCount: 1), [("a", entry + [0x3A, 0x00])], "slicedEntry"),  // field 7: one slice
            (
                BundleHeader(shardCount: 1),
                [
                    (
                        "a",
                        BundleProtos.encode(
                            BundleEntry(dataType: 1, shape: [4], shardID: 0, offset: 60, size: 16, maskedCRC32C: 0))
                    )
                ],
                "entryOutOfBounds"
            ),
            (
                BundleHeader(shardCount: 1),
                [
                    (
                        "a",
                        BundleProtos.encode(
                            BundleEntry(dataType: 7, shape: [4], shardID: 0, offset: 0, size: 16, maskedCRC32C: 0))
                    )
                ],
                "unsupportedDType"
            ),  // DT_STRING
        ]
        for (header, entries, expected) in cases {
            let directory = TemporaryDirectory()
            let prefix = try rawBundle(directory, header: header, entries: entries)
            do {
                _ = try Checkpoint.open(prefix, checksums: .verifyWhenRead)
                Issue.record("\(expected) case was accepted")
            } catch let error as TensorFlowError {
                #expect(error.caseName == expected, "\(error)")
            }
        }
    }
}

@Suite struct TensorBundleHostileInputTests {
    /// Each file of the corpus is refused with the error its manifest names, naming the file.
    @Test(arguments: try Fixtures.manifest("tf_bad"))
    func rejectsHostileBundle(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("tf_bad/\(entry.file)")
        do {
            let checkpoint = try Checkpoint.open(url, checksums: .verifyOnOpen)
            Issue.record("\(entry.file) was accepted with \(checkpoint.tensors.count) tensors")
        } catch let error as TensorFlowError {
            #expect(error.caseName == entry.error, "\(entry.file): \(error)")
            #expect(error.description.contains(url.path), "\(entry.file): \(error)")
        } catch let error as CheckpointError {
            // A tensor failing its CRC-32C is the same error in every format.
            guard case .checksumMismatch = error else {
                Issue.record("\(entry.file): \(error)")
                return
            }
            #expect(entry.error == "badTensorChecksum", "\(entry.file): \(error)")
            #expect(error.description.contains(url.path), "\(entry.file): \(error)")
        }
    }

    @Test func theCorpusBaseIsValid() throws {
        let checkpoint = try Checkpoint.open(Fixtures.url("tf_bad/valid"), checksums: .verifyOnOpen)
        #expect(checkpoint.format == .tensorflowBundle && !checkpoint.tensors.isEmpty)
    }
}
