import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// What a directory conversion carries from the source directory, and what it leaves out.
@Suite struct CompanionsTests {
    static let carried = [
        "README.md", "generation_config.json", "operative_config.gin", "special_tokens_map.json", "spiece.model",
        "tokenizer.json",
        "tokenizer_config.json",
    ]

    /// The hub snapshot fixture copied into `temporary.path("src")`.
    func snapshot(in temporary: TemporaryDirectory) throws -> URL {
        let source = temporary.path("src")
        try FileManager.default.copyItem(at: Fixtures.url("companions/hub_snapshot"), to: source)
        return source
    }

    @Test func carriesEveryNonWeightFileByteForByte() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        let destination = temporary.path("out")
        let plan = try ConversionPlan(.init(source: source, destination: destination, dtype: .bf16))
        #expect(plan.companions.files == Self.carried)
        #expect(plan.companions.leftOut.isEmpty)
        let report = try Converter.run(plan)
        #expect(report.files == ["model.safetensors", "config.json"])
        #expect(report.companions == Self.carried)
        for name in Self.carried {
            #expect(
                FileManager.default.contents(atPath: destination.appendingPathComponent(name).path)
                    == FileManager.default.contents(atPath: source.appendingPathComponent(name).path), "\(name)")
        }
        // config.json: the source's keys, in order, with only the dtype changed.
        let before = try AnalyzedCheckpoint(opening: source).configJSON
        let after = try AnalyzedCheckpoint(opening: destination).configJSON
        #expect(after?["dtype"]?.stringValue == "bfloat16")
        #expect(after?.members?.map(\.key) == before?.members?.map(\.key))
        #expect(after?.setting("dtype", to: .string("float32")) == before)
        // ... and in its bytes: only the value changed.
        let sourceText = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        #expect(
            try String(contentsOf: destination.appendingPathComponent("config.json"), encoding: .utf8)
                == sourceText.replacingOccurrences(of: #""dtype": "float32""#, with: #""dtype": "bfloat16""#))
    }

    @Test func aConfigIsPatchedInPlaceOnlyWhenNothingElseChanges() throws {
        let temporary = TemporaryDirectory()
        let config = JSONValue.object([
            .init(key: "d_model", value: .number("8")), .init(key: "torch_dtype", value: .string("bfloat16")),
        ])
        let text = "{\n    \"d_model\": 8,\n    \"torch_dtype\" : \"float32\"\n}"
        try Data(text.utf8).write(to: temporary.path("config.json"))
        #expect(
            ConversionPlan.patchedSourceConfig(to: config, in: temporary.url)
                == text.replacingOccurrences(of: "float32", with: "bfloat16"))
        // A nested key of the same name would change too: printed afresh instead.
        let nested = "{\"d_model\": 8, \"torch_dtype\": \"float32\", \"x\": {\"torch_dtype\": \"float32\"}}"
        try Data(nested.utf8).write(to: temporary.path("config.json"))
        let inner = JSONValue.object([.init(key: "torch_dtype", value: .string("float32"))])
        let nestedConfig = JSONValue.object((config.members ?? []) + [.init(key: "x", value: inner)])
        #expect(ConversionPlan.patchedSourceConfig(to: nestedConfig, in: temporary.url) == nil)
        #expect(ConversionPlan.patchedSourceConfig(to: config, in: temporary.path("absent")) == nil)
    }

    @Test func leavesOutWeightsLinksDirectoriesAndSpecialFilesAndSaysWhy() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        let manager = FileManager.default
        try manager.createDirectory(at: source.appendingPathComponent("onnx"), withIntermediateDirectories: false)
        try manager.createSymbolicLink(
            atPath: source.appendingPathComponent("linked.md").path, withDestinationPath: "README.md")
        try manager.createSymbolicLink(
            atPath: source.appendingPathComponent("dangling").path, withDestinationPath: "nowhere")
        try manager.createSymbolicLink(
            atPath: source.appendingPathComponent("onnx-link").path, withDestinationPath: "onnx")
        try manager.copyItem(
            at: Fixtures.url("torch/dtypes.bin"), to: source.appendingPathComponent("pytorch_model.bin"))
        try manager.copyItem(
            at: Fixtures.url("foreign/keras_h5/tf_model.h5"), to: source.appendingPathComponent("tf_model.h5"))
        // Weights under a name that says nothing: told from their bytes.
        try manager.copyItem(at: Fixtures.url("dtypes.safetensors"), to: source.appendingPathComponent("weights.dat"))
        try Data("x\n".utf8).write(to: source.appendingPathComponent(".gitattributes"))
        try Data("{\"vo".utf8).write(to: source.appendingPathComponent("tokenizer.json.part"))
        try Data("stale\n".utf8).write(to: source.appendingPathComponent("SHA256SUMS"))
        try Data("stale\n".utf8).write(to: source.appendingPathComponent("model.safetensors.sha256"))
        try Data("x\n".utf8).write(to: source.appendingPathComponent("model.ckpt-1.data-00000-of-00001"))
        // Sparse: larger than the limit without taking the disk.
        let big = source.appendingPathComponent("big.txt")
        #expect(manager.createFile(atPath: big.path, contents: nil))
        let handle = try FileHandle(forWritingTo: big)
        try handle.truncate(atOffset: UInt64(Companions.sizeLimit + 1))
        try handle.close()
        #expect(mkfifo(source.appendingPathComponent("pipe").path, 0o644) == 0)

        let companions = try Companions(of: try Checkpoint.open(source))
        #expect(companions.files == (Self.carried + ["linked.md"]).sorted())
        let leftOut = Dictionary(uniqueKeysWithValues: companions.leftOut.map { ($0.name, $0.reason) })
        #expect(
            leftOut == [
                ".gitattributes": .hidden, "big.txt": .tooLarge, "dangling": .link, "onnx": .subdirectory,
                "onnx-link": .link, "pipe": .special, "pytorch_model.bin": .weights, "tf_model.h5": .weights,
                "weights.dat": .weights, "model.ckpt-1.data-00000-of-00001": .weights,
                "tokenizer.json.part": .partial,
            ])
    }

    @Test func aCompanionThatCannotBeReadIsAnErrorNamingItAndNothingReachesTheDestination() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        let destination = temporary.path("out")
        let plan = try ConversionPlan(.init(source: source, destination: destination))
        let readme = source.appendingPathComponent("README.md")
        try FileManager.default.removeItem(at: readme)
        let error = #expect(throws: ConvertError.self) { try Converter.run(plan) }
        guard case let .unreadableCompanion(path, reason)? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(path == readme.path && reason.contains("No such file"), "\(reason)")
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(temporary.contents() == ["src"], "no staging directory left behind")
    }

    @Test(arguments: ["sample_sharded", "torch/sample_bin_sharded", "tf/sample_meshtf"])
    func aCheckpointsOwnFilesAreNeitherCarriedNorReported(_ fixture: String) throws {
        let checkpoint = try Checkpoint.open(Fixtures.url(fixture))
        let companions = try Companions(of: checkpoint)
        #expect(companions.files == [fixture.hasPrefix("tf/") ? MeshTFLayout.ginFileName : "generation_config.json"])
        #expect(companions.leftOut.isEmpty, "\(companions.leftOut)")
    }

    @Test func anotherFormatsIndexIsLeftOutAsWeights() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        try FileManager.default.copyItem(
            at: Fixtures.url("torch/sample_bin_sharded/pytorch_model.bin.index.json"),
            to: source.appendingPathComponent("pytorch_model.bin.index.json"))
        let companions = try Companions(of: try Checkpoint.open(source))
        #expect(companions.files == Self.carried)
        #expect(companions.leftOut.map(\.name) == ["pytorch_model.bin.index.json"])
    }

    @Test func aSingleFileSourceCarriesNothing() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        let plan = try ConversionPlan(
            .init(source: source.appendingPathComponent("model.safetensors"), destination: temporary.path("out")))
        #expect(plan.companions.files.isEmpty)
        #expect(try Converter.run(plan).companions.isEmpty)
    }

    @Test func toTensorFlowKeepsTheSourceGinAndAGinThatDisagreesIsRefused() throws {
        let temporary = TemporaryDirectory()
        let source = try snapshot(in: temporary)
        let destination = temporary.path("tf")
        let plan = try ConversionPlan(.init(source: source, destination: destination, format: .tensorflow))
        #expect(plan.keepsSourceGin && plan.operativeConfig == nil)
        let report = try Converter.run(plan)
        #expect(report.wroteConfig)
        let gin = MeshTFLayout.ginFileName
        #expect(
            FileManager.default.contents(atPath: destination.appendingPathComponent(gin).path)
                == FileManager.default.contents(atPath: source.appendingPathComponent(gin).path))
        #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent("tokenizer.json").path))

        let text = try String(contentsOf: source.appendingPathComponent(gin), encoding: .utf8)
        try Data(text.replacingOccurrences(of: "d_ff = 16", with: "d_ff = 2048").utf8).write(
            to: source.appendingPathComponent(gin))
        #expect(throws: ConvertError.self) {
            try ConversionPlan(.init(source: source, destination: temporary.path("tf2"), format: .tensorflow))
        }
    }

    @Test func weightNamesAreKnownByExtensionAndTensorFlowShardPattern() {
        for name in ["model.safetensors", "x.BIN", "rust_model.ot", "model.onnx", "a.ckpt-5.index", "m.ckpt.meta"] {
            #expect(Companions.isWeightName(name), "\(name)")
        }
        #expect(Companions.isWeightName("model.ckpt-100.data-00001-of-00002"))
        for name in ["tokenizer.json", "spiece.model", "README.md", "operative_config.gin", "vocab.txt"] {
            #expect(!Companions.isWeightName(name), "\(name)")
        }
    }
}
