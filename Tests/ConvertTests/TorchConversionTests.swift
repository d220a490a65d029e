import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

@Suite struct TorchConversionTests {
    @Test func binToSafetensorsFoldsTransformersTiedNames() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("from-bin")
        let report = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.url("torch/sample_bin"), destination: destination)))
        #expect(
            Set(report.foldedAliases) == [
                "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight",
            ])
        let output = try Checkpoint.open(destination)
        let sample = try Checkpoint.open(Fixtures.sample)
        #expect(output.tensors.map(\.name).sorted() == sample.tensors.map(\.name).sorted())
        for tensor in output.tensors {
            #expect(tensor.firstDifference(from: try #require(sample.tensor(named: tensor.name))) == nil)
        }
    }

    @Test func safetensorsToPyTorchWritesTiedNamesOnOneStorage() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("bin")
        let report = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.sample, destination: destination, format: .pytorch)))
        #expect(report.files == ["pytorch_model.bin", "config.json"])
        let output = try Checkpoint.open(destination)
        #expect(output.format == .pytorchZip)
        let shared = try #require(output.tensor(named: "shared.weight"))
        for alias in TiedEmbeddings.embeddingAliases + [TiedEmbeddings.lmHead] {
            #expect(output.tensor(named: alias)?.fileOffset == shared.fileOffset, "\(alias)")
        }
        // And back: the aliases fold again, and every tensor is bit-identical to the sample.
        let back = temporary.path("back.safetensors")
        _ = try Converter.run(try ConversionPlan(.init(source: destination, destination: back)))
        let sample = try Checkpoint.open(Fixtures.sample)
        for tensor in try Checkpoint.open(back).tensors {
            #expect(tensor.firstDifference(from: try #require(sample.tensor(named: tensor.name))) == nil)
        }
    }

    @Test func shardedPyTorchOutputIndexesItsAliases() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("sharded")
        _ = try Converter.run(
            try ConversionPlan(
                .init(
                    source: Fixtures.sample, destination: destination, dtype: .bf16, shardSize: 300_000,
                    format: .pytorch)))
        let files = try FileManager.default.contentsOfDirectory(atPath: destination.path)
        #expect(files.contains(ShardedTorch.indexFileName))
        let output = try Checkpoint.open(destination)
        #expect(output.format == .pytorchSharded)
        #expect(output.tensors.count == 66)
        #expect(output.tensors.allSatisfy { $0.dtype == .bf16 })
    }

    @Test func legacyAndNestedCheckpointsConvert() throws {
        let temporary = TemporaryDirectory()
        let legacy = temporary.path("legacy.safetensors")
        _ = try Converter.run(try ConversionPlan(.init(source: Fixtures.url("torch/legacy.bin"), destination: legacy)))
        #expect(try Checkpoint.open(legacy).tensors.count == 63)

        let nested = temporary.path("nested.safetensors")
        let plan = try ConversionPlan(.init(source: Fixtures.url("torch/nested.bin"), destination: nested))
        #expect(plan.source.checkpoint.skipped.count == 4)
        _ = try Converter.run(plan)
        #expect(try Checkpoint.open(nested).tensors.map(\.name) == ["model.w", "model.b", "history.0", "history.1"])
    }

    @Test func theDestinationNameChoosesTheFormat() throws {
        let temporary = TemporaryDirectory()
        let bin = temporary.path("model.bin")
        _ = try Converter.run(try ConversionPlan(.init(source: Fixtures.sample, destination: bin)))
        #expect(try Checkpoint.open(bin).format == .pytorchZip)
        #expect(throws: ConvertError.formatMismatch(destination: bin.path, asked: "safetensors", named: "pytorch")) {
            try ConversionPlan(.init(source: Fixtures.sample, destination: bin, force: true, format: .safetensors))
        }
    }

    @Test func aBadChecksumFoundWhileConvertingLeavesNothingBehind() throws {
        let temporary = TemporaryDirectory()
        let source = Fixtures.url("torch_bad/bad_member_crc.bin")
        // Inspecting checks every checksum up front...
        #expect(throws: TorchError.self) { try Checkpoint.open(source) }
        // ...converting checks each tensor's as it reads it, and still fails before renaming.
        let destination = temporary.path("out.safetensors")
        let plan = try ConversionPlan(.init(source: source, destination: destination))
        #expect(throws: CheckpointError.self) { try Converter.run(plan) }
        #expect(temporary.contents().isEmpty, "no output, no staging file")
    }
}
