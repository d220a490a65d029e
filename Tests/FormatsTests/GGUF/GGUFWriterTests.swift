import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct GGUFWriterTests {
    /// Read with zoo, written back with zoo: byte for byte the file gguf-py wrote (same metadata
    /// order, tensor infos, offsets and padding, after the last tensor too).
    @Test(arguments: GGUFFixtures.files) func rewritesGGUFPyFilesByteForByte(_ name: String) throws {
        let temporary = TemporaryDirectory()
        let original = GGUFFixtures.url(name)
        let (file, checkpoint) = try GGUFReader.read(original)
        let copy = temporary.path(name)
        try GGUFWriter.write(checkpoint.tensors, metadata: file.metadata, to: copy.path)
        #expect(try Data(contentsOf: copy) == Data(contentsOf: original))
    }

    /// What zoo writes from the fixtures' sources (every metadata type, empty arrays, tensors
    /// copied, quantized and dequantized on the fly, alignment 64) is the committed
    /// `gguf_zoo/zoo_written.gguf` (outside `gguf/`, which make-fixtures.py owns), which `Scripts/check-interop.py` loads with gguf-py's GGUFReader.
    /// `ZOO_WRITE_GGUF_FIXTURE=1` rewrites that file instead.
    @Test func writesTheInteropFixture() throws {
        let temporary = TemporaryDirectory()
        let output = temporary.path("zoo_written.gguf")
        try Self.writeInteropFile(to: output)
        let committed = Fixtures.url("gguf_zoo/zoo_written.gguf")
        if ProcessInfo.processInfo.environment["ZOO_WRITE_GGUF_FIXTURE"] == "1" {
            _ = try? FileManager.default.removeItem(at: committed)
            try FileManager.default.createDirectory(
                at: committed.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: output, to: committed)
        }
        #expect(try Data(contentsOf: output) == Data(contentsOf: committed))

        let (file, checkpoint) = try GGUFReader.read(output)
        #expect(file.alignment == 64)
        #expect(file.value(forKey: "zoo.empty") == .array(.uint8([])))
        #expect(checkpoint.tensor(named: "q.mixed")?.dtype == .q8_0)
        #expect(checkpoint.tensor(named: "q.1d.dequantized")?.dtype == .f32)
    }

    static func writeInteropFile(to output: URL) throws {
        let (source, sourceCheckpoint) = try GGUFReader.read(GGUFFixtures.url("metadata.gguf"))
        let quantized = try GGUFReader.open(GGUFFixtures.url("q8_0.gguf"))
        let arrays = try GGUFFixtures.arrays()
        var metadata = source.metadata
        metadata += [
            ("zoo.empty", .array(.uint8([]))),
            ("zoo.empty_string", .string("")),
            ("zoo.nested_empty", .array(.array([.string([]), .float64([2.5])]))),
            (GGUFFile.alignmentKey, .uint32(64)),
        ]
        var tensors: [any TensorByteSource] = sourceCheckpoint.tensors
        for name in Q8_0Tests.quantized {
            let input = try #require(arrays.tensor(named: "q8_0.gguf/\(name).input"))
            tensors.append(try #require(Q8_0QuantizingTensor(input, name: name)))
        }
        let q1d = try #require(quantized.tensor(named: "q.1d"))
        tensors.append(try #require(Q8_0DequantizingTensor(q1d, name: "q.1d.dequantized")))
        try GGUFWriter.write(tensors, metadata: metadata, to: output.path)
    }

    @Test func stringMetadataThroughCheckpointWriter() throws {
        let temporary = TemporaryDirectory()
        let output = temporary.path("plain.gguf")
        let tensor = try floatTensor("w", [1, 2, 3, 4], shape: [2, 2])
        try GGUFWriter.writeFile([tensor], aliases: [], metadata: ["b": "2", "a": "1"], at: output.path)
        let (file, checkpoint) = try GGUFReader.read(output)
        #expect(file.metadata.map(\.key) == ["a", "b"])
        #expect(file.value(forKey: "a") == .string("1"))
        #expect(checkpoint.tensors.first?.firstDifference(from: tensor) == nil)
        #expect(file.tensors.first?.dimensions == [2, 2] && file.dataOffset % 32 == 0)
    }

    @Test func refusesWhatGGUFCannotHold() throws {
        let temporary = TemporaryDirectory()
        let path = temporary.path("bad.gguf").path
        let f32 = try floatTensor("w", [1, 2], shape: [2])
        let scalar = try floatTensor("s", [1], shape: [])
        let spec = try #require(TensorSpec(name: "d", dtype: .f64, shape: [1]))
        let f64 = TensorRef(spec: spec, file: try AnonymousStorage(name: "d", byteCount: 8) { _ in }, fileOffset: 0)
        func refusal(_ tensors: [any TensorByteSource], _ metadata: [(key: String, value: GGUFValue)] = []) -> String? {
            let error = #expect(throws: GGUFError.self) { try GGUFWriter.write(tensors, metadata: metadata, to: path) }
            return error?.caseName
        }
        #expect(refusal([f64]) == "unsupportedDType")
        #expect(refusal([scalar]) == "unwritableShape")
        #expect(refusal([f32, f32]) == "duplicateTensorToWrite")
        #expect(refusal([f32], [("k", .uint8(1)), ("k", .uint8(2))]) == "duplicateKeyToWrite")
        #expect(refusal([f32], [(GGUFFile.alignmentKey, .uint32(48))]) == "invalidAlignmentToWrite")
        #expect(refusal([f32], [(GGUFFile.alignmentKey, .uint64(64))]) == "invalidAlignmentToWrite")
        #expect(!FileManager.default.fileExists(atPath: path), "nothing is created before the header is known good")
    }

    /// Q8_0 reaches no other writer: each refuses it by name before writing.
    @Test func otherWritersRefuseQ8_0() throws {
        let temporary = TemporaryDirectory()
        let q8 = try #require(Q8_0QuantizingTensor(try floatTensor("w", [Float](repeating: 1, count: 32), shape: [32])))
        let writers: [(String, () throws -> Void)] = [
            ("safetensors", { try SafetensorsWriter.writeFile([q8], metadata: [:], at: temporary.path("a").path) }),
            ("torch", { try TorchZipWriter.writeFile([q8], aliases: [], metadata: [:], at: temporary.path("b").path) }),
            ("tf", { _ = try TensorBundle.write([q8], prefix: temporary.path("model.ckpt")) }),
        ]
        for (name, write) in writers {
            let error = #expect(throws: CheckpointError.self, "\(name)") { try write() }
            #expect(error?.caseName == "unsupportedDType", "\(name)")
        }
    }
}
