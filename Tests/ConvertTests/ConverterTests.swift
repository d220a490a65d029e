import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

@Suite struct ConverterTests {
    /// `ConversionPlan(source:request:context:)` is a pure function of what was read: once the
    /// context is gathered, the source directory's other files can vanish and the plan is the same.
    @Test func planningFromAGatheredContextReadsNothingMore() throws {
        let temporary = TemporaryDirectory()
        let model = temporary.path("model")
        try FileManager.default.copyItem(at: Fixtures.sample, to: model)
        let request = ConversionPlan.Request(source: model, destination: temporary.path("out"), dtype: .bf16)
        let expected = try ConversionPlan(request)
        let source = try AnalyzedCheckpoint(opening: model, checksums: .verifyWhenRead)
        let context = try PlanningContext(gathering: request, source: source)
        for name in ["config.json", "generation_config.json"] {
            try FileManager.default.removeItem(at: model.appendingPathComponent(name))
        }
        let plan = try ConversionPlan(source: source, request: request, context: context)
        #expect(plan.configText == expected.configText)
        #expect(plan.configText?.contains("\"bfloat16\"") == true)
        #expect(plan.companions.files == expected.companions.files)
        #expect(plan.tensors.map(\.output) == expected.tensors.map(\.output))
    }

    @Test func convertsToBF16WithAConfigAndNoLeftovers() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("bf16")
        let plan = try ConversionPlan(.init(source: Fixtures.sample, destination: destination, dtype: .bf16))
        let report = try Converter.run(plan)
        #expect(report.files == ["model.safetensors", "config.json"])
        #expect(temporary.contents() == ["bf16"], "no staging directory left behind")

        let output = try AnalyzedCheckpoint(opening: destination)
        #expect(output.checkpoint.tensors.allSatisfy { $0.dtype == .bf16 })
        #expect(output.checkpoint.metadata["format"] == "pt")
        #expect(output.configJSON?["dtype"]?.stringValue == "bfloat16", "the copied config's dtype follows the cast")
        #expect(try output.t5.get().config == (try AnalyzedCheckpoint(opening: Fixtures.sample).t5.get().config))
        #expect(report.castTotals == CastStatistics())
    }

    @Test func shardsAndReadsBackBitForBit() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("sharded")
        let plan = try ConversionPlan(.init(source: Fixtures.sample, destination: destination, shardSize: 300_000))
        let report = try Converter.run(plan)
        #expect(plan.files.count == 6)
        #expect(report.files.contains(ShardedSafetensors.indexFileName))
        let sharded = try Checkpoint.open(destination)
        let sample = try Checkpoint.open(Fixtures.sample)
        #expect(sharded.tensors.map(\.name) == sample.tensors.map(\.name))
        for (left, right) in zip(sharded.tensors, sample.tensors) {
            #expect(left.firstDifference(from: right) == nil)
        }
        // Every shard but the last stays within the limit unless one tensor alone exceeds it.
        for file in sharded.files {
            let tensorsInFile = sharded.tensors.filter { $0.file.path == file.path }
            let bytes = tensorsInFile.reduce(0) { $0 + $1.spec.byteCount }
            #expect(bytes <= 300_000 || tensorsInFile.count == 1)
        }
    }

    @Test func writesTiedEmbeddingsOnceAndRecordsTheAliases() throws {
        let temporary = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let shared = try #require(sample.tensor(named: "shared.weight"))
        let source = temporary.path("source")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        try SafetensorsWriter.writeFile(
            sample.tensors + [
                shared.renamed("encoder.embed_tokens.weight"), shared.renamed("decoder.embed_tokens.weight"),
            ],
            metadata: ["format": "pt"], at: source.appendingPathComponent("model.safetensors").path)

        let destination = temporary.path("out")
        let report = try Converter.run(try ConversionPlan(.init(source: source, destination: destination)))
        #expect(report.foldedAliases == ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"])
        let output = try Checkpoint.open(destination)
        #expect(output.tensors.count == sample.tensors.count)
        let recorded = try JSONParser.parse(Array(try #require(output.metadata[TiedEmbeddings.metadataKey]).utf8))
        #expect(recorded["decoder.embed_tokens.weight"]?.stringValue == "shared.weight")
    }

    @Test func singleFileDestinationsAreFiles() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("one.safetensors")
        _ = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.url("sample_sharded"), destination: destination, dtype: .f16)))
        #expect(temporary.contents() == ["one.safetensors"])
        #expect(try Checkpoint.open(destination).tensors.allSatisfy { $0.dtype == .f16 })
    }

    @Test func refusesToOverwriteOrOverlapItsInput() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("out")
        _ = try Converter.run(try ConversionPlan(.init(source: Fixtures.sample, destination: destination)))
        #expect(throws: CheckpointError.outputExists(path: destination.path)) {
            try Converter.run(try ConversionPlan(.init(source: Fixtures.sample, destination: destination)))
        }
        _ = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.sample, destination: destination, dtype: .bf16, force: true)))
        #expect(try Checkpoint.open(destination).tensors.allSatisfy { $0.dtype == .bf16 })

        // A planning error (ConvertError), not a reader's: Core knows nothing of outputs and inputs.
        #expect(throws: ConvertError.self) {
            try ConversionPlan(.init(source: destination, destination: destination, force: true))
        }
        #expect(throws: ConvertError.self) {
            try ConversionPlan(
                .init(
                    source: destination.appendingPathComponent("model.safetensors"), destination: temporary.url,
                    force: true))
        }
    }

    @Test func refusesBrokenT5Checkpoints() throws {
        let temporary = TemporaryDirectory()
        let source = temporary.path("broken")
        try FileManager.default.createDirectory(at: source, withIntermediateDirectories: true)
        let sample = try Checkpoint.open(Fixtures.sample)
        try SafetensorsWriter.writeFile(
            sample.tensors.filter { !$0.name.hasPrefix("decoder.final_layer_norm") }, metadata: [:],
            at: source.appendingPathComponent("model.safetensors").path)
        #expect(throws: ConvertError.self) {
            try ConversionPlan(.init(source: source, destination: temporary.path("out")))
        }
        #expect(!FileManager.default.fileExists(atPath: temporary.path("out").path))
    }

    @Test func convertsNonT5CheckpointsTensorByTensor() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("dtypes-bf16.safetensors")
        let report = try Converter.run(
            try ConversionPlan(
                .init(source: Fixtures.url("dtypes.safetensors"), destination: destination, dtype: .bf16)))
        let output = try Checkpoint.open(destination)
        // Every floating-point tensor is cast, float8 included (as torch's `.to()` casts it);
        // integers and bool are kept as they are.
        #expect(
            report.casts.map(\.tensor).sorted() == [
                "empty", "scalar", "t_F16", "t_F32", "t_F64", "t_F8_E4M3", "t_F8_E5M2",
            ])
        #expect(output.tensor(named: "t_I64")?.dtype == .i64)
        #expect(output.tensor(named: "t_F8_E4M3")?.dtype == .bf16)
        #expect(output.tensor(named: "t_F8_E5M2")?.dtype == .bf16)
        #expect(output.metadata["origin"] == "zoo fixture")
    }

    @Test(arguments: [
        ("2GB", 2_000_000_000), ("500MB", 500_000_000), ("20KB", 20_000), ("1GiB", 1 << 30), ("123", 123),
        ("7 kib", 7168),
    ])
    func parsesShardSizes(_ text: String, _ bytes: Int) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "0", "-5MB", "2TB", "MB", "1.5GB", "99999999999999999999GB"])
    func rejectsBadShardSizes(_ text: String) {
        #expect(throws: ConvertError.invalidShardSize(text)) { try ByteSize.parse(text) }
    }

    @Test func shardPlanKeepsOrderAndGivesOversizedTensorsTheirOwnShard() {
        #expect(ShardPlan.groups(byteCounts: [4, 4, 4, 10, 1], limit: 8) == [[0, 1], [2], [3], [4]])
        #expect(ShardPlan.groups(byteCounts: [4, 4], limit: nil) == [[0, 1]])
        #expect(ShardPlan.groups(byteCounts: [], limit: 8) == [[]])
    }

    @Test func compressedOutputsRoundTrip() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("zst")
        let report = try Converter.run(
            try ConversionPlan(
                .init(source: Fixtures.sample, destination: destination, shardSize: 500_000, compress: true)))
        #expect(report.files.filter { $0.hasPrefix("model-") }.allSatisfy { $0.hasSuffix(".safetensors.zst") })
        let back = try Checkpoint.open(destination)
        let sample = try Checkpoint.open(Fixtures.sample)
        for tensor in back.tensors {
            #expect(tensor.firstDifference(from: try #require(sample.tensor(named: tensor.name))) == nil)
        }
        let single = temporary.path("one.bin.zst")
        _ = try Converter.run(try ConversionPlan(.init(source: destination, destination: single)))
        #expect(try Checkpoint.open(single).format == .pytorchZip)
    }
}
