import Foundation
import TestSupport
import Testing

@testable import Formats

@Suite struct GGUFReaderTests {
    /// Every gguf-py-written fixture reads as gguf-py reads it: metadata (types, values, order),
    /// tensor names, types, numpy-order shapes, offsets and bytes.
    @Test(arguments: GGUFFixtures.files) func readsWhatGGUFPyWrote(_ name: String) throws {
        let expected = try #require(try GGUFFixtures.expected()[name])
        let arrays = try GGUFFixtures.arrays()
        let (file, checkpoint) = try GGUFReader.read(GGUFFixtures.url(name))
        #expect(checkpoint.format == .gguf)
        #expect(file.version == 3)
        #expect(file.alignment == expected["alignment"]?.intValue)
        #expect(file.dataOffset == expected["data_offset"]?.intValue)
        #expect(GGUFFixtures.json(file.metadata).serialized() == expected["metadata"]?.serialized())

        let infos = try #require(expected["tensors"]?.arrayValue)
        #expect(checkpoint.tensors.map(\.name) == infos.compactMap { $0["name"]?.stringValue })
        for (tensor, info) in zip(checkpoint.tensors, infos) {
            let stored = try #require(file.tensors.first { $0.spec.name == tensor.name })
            #expect(stored.ggmlType == UInt32(info["ggml_type"]?.intValue ?? -1), "\(tensor.name)")
            #expect(tensor.shape == info["shape"]?.arrayValue?.compactMap(\.intValue), "\(tensor.name)")
            #expect(stored.dimensions == tensor.shape.reversed().map(UInt64.init), "\(tensor.name)")
            #expect(tensor.fileOffset == info["file_offset"]?.intValue, "\(tensor.name)")
            let raw = try #require(arrays.tensor(named: "\(name)/\(tensor.name).raw"))
            #expect(tensor.bytes == raw.bytes, "\(tensor.name)")
        }
    }

    @Test func rendersMetadataAsStrings() throws {
        let checkpoint = try Checkpoint.open(GGUFFixtures.url("metadata.gguf"))
        #expect(checkpoint.format == .gguf)
        #expect(checkpoint.metadata["general.architecture"] == "t5")
        #expect(checkpoint.metadata["test.uint64"] == "18446744073709551615")
        #expect(checkpoint.metadata["test.bool"] == "true")
        #expect(checkpoint.metadata["test.array.int32"] == "[1, -2, 3]")
        #expect(checkpoint.metadata["test.array.string"] == "[\"a\", \"\", \"ünïcode\", \"▁with▁spaces\"]")
        #expect(checkpoint.metadata["tokenizer.ggml.tokens"] == "[40 × string]")
        #expect(checkpoint.metadata["test.array.nested"] == "[2 × array]")
    }

    @Test func opensADirectoryHoldingOneGGUFFile() throws {
        let temporary = TemporaryDirectory()
        try FileManager.default.copyItem(at: GGUFFixtures.url("q8_0.gguf"), to: temporary.path("model.gguf"))
        let checkpoint = try Checkpoint.open(temporary.url)
        #expect(checkpoint.format == .gguf)
        #expect(checkpoint.tensor(named: "q.mixed")?.dtype == .q8_0)
        #expect(try Checkpoint.isWeightFile(temporary.path("model.gguf")))
    }

    /// Each hostile file is refused with its manifest's error, naming the file and a byte offset.
    @Test(arguments: try Fixtures.manifest("gguf_bad"))
    func rejectsMalformedFile(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("gguf_bad/\(entry.file)")
        let error = #expect(throws: GGUFError.self, "\(entry.file) was accepted") {
            try GGUFReader.open(url)
        }
        let refusal = try #require(error)
        #expect(refusal.caseName == entry.error, "\(entry.file): \(refusal)")
        #expect(refusal.description.contains(url.path), "the message names the file")
        #expect(refusal.description.contains("offset"), "the message names a byte offset: \(refusal)")
    }

    @Test func refusalsNameTheTypeTensorAndOffset() throws {
        let error = #expect(throws: GGUFError.self) { try GGUFReader.open(Fixtures.url("gguf_bad/q4_k.gguf")) }
        let message = try #require(error).description
        #expect(message.contains("Q4_K") && message.contains("'a'") && message.contains("byte offset 87"))
        let bigEndian = #expect(throws: GGUFError.self) {
            try GGUFReader.open(Fixtures.url("gguf_bad/big_endian.gguf"))
        }
        #expect(try #require(bigEndian).description.contains("big-endian"))
    }

    /// Q8_0 is GGUF's alone: a safetensors header naming it has an unknown dtype.
    @Test func safetensorsRefusesQ8_0AsAnUnknownDType() throws {
        let json = Array(#"{"a":{"dtype":"Q8_0","shape":[32],"data_offsets":[0,34]}}"#.utf8)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json
        bytes += [UInt8](repeating: 0, count: 34)
        let error = #expect(throws: SafetensorsError.self) {
            try bytes.withUnsafeBytes { try SafetensorsHeader(fileBytes: $0, path: "q8.safetensors") }
        }
        #expect(error?.caseName == "unknownDType")
    }

    @Test func q8_0SpecsNeedWholeBlocksInTheInnermostDimension() {
        #expect(TensorSpec(name: "a", dtype: .q8_0, shape: [3, 64])?.byteCount == 3 * 2 * 34)
        #expect(TensorSpec(name: "a", dtype: .q8_0, shape: [64, 3]) == nil)
        #expect(TensorSpec(name: "a", dtype: .q8_0, shape: []) == nil)
        #expect(TensorSpec(name: "a", dtype: .q8_0, shape: [0, 32])?.byteCount == 0)
    }
}
