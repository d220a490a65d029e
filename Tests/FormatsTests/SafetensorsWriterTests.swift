import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct SafetensorsWriterTests {
    @Test func roundTripsEveryDTypeBitForBit() throws {
        let temporary = TemporaryDirectory()
        let source = try SafetensorsReader.open(Fixtures.url("dtypes.safetensors"))
        let output = temporary.path("copy.safetensors")
        try SafetensorsWriter.writeFile(source.tensors, metadata: source.metadata, at: output.path)

        let copy = try SafetensorsReader.open(output)
        #expect(copy.metadata == source.metadata)
        #expect(copy.tensors.map(\.spec) == source.tensors.map(\.spec))
        for (written, original) in zip(copy.tensors, source.tensors) {
            #expect(written.firstDifference(from: original) == nil, "\(original.name)")
        }
    }

    @Test func padsTheHeaderToEightBytes() throws {
        for nameLength in 1...9 {
            let spec = try #require(
                TensorSpec(name: String(repeating: "x", count: nameLength), dtype: .f32, shape: [1]))
            let header = SafetensorsWriter.header(for: [spec], metadata: [:])
            #expect(header.count % 8 == 0)
            let declared = header.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(declared == UInt64(header.count - 8))
        }
    }

    @Test func writesTheIndexTransformersExpects() throws {
        let text = ShardedCheckpoint.indexJSON(
            weightMap: ["b": "model-00002-of-00002.safetensors", "a": "x"], totalSize: 12)
        let root = try JSONParser.parse(Array(text.utf8))
        #expect(root["metadata"]?["total_size"]?.intValue == 12)
        #expect(root["weight_map"]?.members?.map(\.key) == ["a", "b"])
        #expect(ShardedSafetensors.shardFileName(3, of: 12) == "model-00003-of-00012.safetensors")
    }

    @Test func stagedOutputLeavesNothingBehindOnFailure() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("out")
        let staged = try StagedOutput(destination: destination, isDirectory: true, force: false)
        _ = FileManager.default.createFile(
            atPath: staged.staging.appendingPathComponent("half").path, contents: Data([1, 2]))
        staged.discard()
        #expect(temporary.contents().isEmpty)
    }

    @Test func stagedOutputRefusesANonEmptyDestinationWithoutForce() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("out")
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: false)
        _ = FileManager.default.createFile(atPath: destination.appendingPathComponent("keep").path, contents: Data([7]))
        #expect(throws: CheckpointError.outputExists(path: destination.path)) {
            try StagedOutput(destination: destination, isDirectory: true, force: false)
        }
        let forced = try StagedOutput(destination: destination, isDirectory: true, force: true)
        _ = FileManager.default.createFile(
            atPath: forced.staging.appendingPathComponent("new").path, contents: Data([8]))
        try forced.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.path) == ["new"])
        #expect(temporary.contents() == ["out"])
    }
}
