import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

@Suite struct T5ModelTests {
    @Test func infersTheSampleArchitecture() throws {
        let analyzed = try AnalyzedCheckpoint(opening: Fixtures.sample)
        let model = try analyzed.t5.get()
        #expect(
            model.config
                == T5Config(
                    vocabSize: 2048, dModel: 64, dKV: 16, dFF: 256, numHeads: 4, numLayers: 4, numDecoderLayers: 2,
                    feedForward: .relu, tieWordEmbeddings: true))
        #expect(model.aliases.isEmpty)
        // Parameters counted by the config formula and by the loaded tensors agree.
        #expect(model.parameterCount == 460_032)
        #expect(model.config.parameterCount == model.parameterCount)
    }

    @Test func infersGatedUntiedModels() throws {
        let model = try AnalyzedCheckpoint(opening: Fixtures.url("t5_gated_untied")).t5.get()
        #expect(model.config.feedForward == .gatedGelu)
        #expect(model.config.tieWordEmbeddings == false)
        #expect(model.config.numLayers == 2 && model.config.numDecoderLayers == 3)
        #expect(model.config.dKV == 8 && model.config.numHeads == 4 && model.config.dFF == 64)
        #expect(model.config.parameterCount == model.parameterCount)
    }

    /// transformers 5 writes an untied T5 with input embeddings of their own; the config decides
    /// that they are untied, and a config that declares them tied makes the difference an error.
    @Test func readsUntiedInputEmbeddingsOnlyWhereTheConfigUntiesThem() throws {
        let directory = Fixtures.url("t5_untied_embeddings")
        let model = try AnalyzedCheckpoint(opening: directory).t5.get()
        #expect(model.separateEmbeddings == ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"])
        #expect(model.aliases.isEmpty)
        let embedding = model.config.vocabSize * model.config.dModel
        #expect(model.parameterCount == model.config.parameterCount + 2 * embedding)

        let checkpoint = try Checkpoint.open(directory)
        var json = try JSONParser.parse(Array(try Data(contentsOf: directory.appendingPathComponent("config.json"))))
        json = .object(
            (json.members ?? []).map { $0.key == "tie_word_embeddings" ? .init(key: $0.key, value: .bool(true)) : $0 })
        #expect(throws: ConvertError.self) { try T5Model(checkpoint, config: json) }
    }

    @Test func countsTheLargeDM128ShapeExactly() {
        let config = T5Config(
            vocabSize: 32128, dModel: 128, dKV: 64, dFF: 4096, numHeads: 16, numLayers: 24, numDecoderLayers: 24,
            feedForward: .relu, tieWordEmbeddings: true)
        #expect(config.parameterCount == 92_209_408)
    }

    @Test func foldsTiedCopiesAndRefusesDifferingOnes() throws {
        let temporary = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let shared = try #require(sample.tensor(named: "shared.weight"))

        let withCopies =
            sample.tensors + [shared.renamed("encoder.embed_tokens.weight"), shared.renamed("lm_head.weight")]
        let copiesFile = temporary.path("copies.safetensors")
        try SafetensorsWriter.writeFile(withCopies, metadata: [:], at: copiesFile.path)
        let model = try T5Model(try Checkpoint.open(copiesFile))
        #expect(Set(model.aliases) == ["encoder.embed_tokens.weight", "lm_head.weight"])
        #expect(model.config.tieWordEmbeddings)
        #expect(model.parameterCount == 460_032)

        // An embed_tokens that is not the shared embedding: T5 cannot represent it.
        let other = try #require(sample.tensor(named: "encoder.block.0.layer.0.SelfAttention.q.weight"))
        let impostor = TensorRef(
            spec: shared.spec.renamed("decoder.embed_tokens.weight"), file: other.file, fileOffset: 8)
        let badFile = temporary.path("bad.safetensors")
        try SafetensorsWriter.writeFile(sample.tensors + [impostor], metadata: [:], at: badFile.path)
        #expect(
            throws: ConvertError.tiedTensorDiffers(
                path: badFile.path, tensor: "decoder.embed_tokens.weight", canonical: "shared.weight", byteOffset: 0)
        ) {
            try T5Model(try Checkpoint.open(badFile))
        }
    }

    @Test func reportsMissingAndStrayTensors() throws {
        let temporary = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let missing = temporary.path("missing.safetensors")
        try SafetensorsWriter.writeFile(
            sample.tensors.filter { $0.name != "decoder.block.1.layer.2.DenseReluDense.wo.weight" }, metadata: [:],
            at: missing.path)
        #expect(
            throws: ConvertError.missingTensor(
                path: missing.path, tensor: "decoder.block.1.layer.2.DenseReluDense.wo.weight")
        ) {
            try T5Model(try Checkpoint.open(missing))
        }

        let stray = temporary.path("stray.safetensors")
        try SafetensorsWriter.writeFile(
            sample.tensors + [sample.tensors[0].renamed("encoder.extra.weight")], metadata: [:], at: stray.path)
        #expect(throws: ConvertError.unexpectedTensor(path: stray.path, tensor: "encoder.extra.weight")) {
            try T5Model(try Checkpoint.open(stray))
        }
    }

    @Test func crossChecksConfigJSON() throws {
        let sample = try Checkpoint.open(Fixtures.sample)
        let config = try JSONParser.parse(
            Array(try Data(contentsOf: Fixtures.sample.appendingPathComponent("config.json"))))
        _ = try T5Model(sample, config: config)
        let wrong = config.setting("num_heads", to: .number("8"))
        #expect(
            throws: ConvertError.configMismatch(path: "/m/config.json", field: "num_heads", config: "8", tensors: "4")
        ) {
            try T5Model(sample, config: wrong, configPath: "/m/config.json")
        }
        let gated = config.setting("feed_forward_proj", to: .string("gated-gelu"))
        #expect(throws: ConvertError.self) { try T5Model(sample, config: gated) }
    }

    @Test func nonT5CheckpointsAreRecognisedAsSuch() throws {
        let analyzed = try AnalyzedCheckpoint(opening: Fixtures.url("dtypes.safetensors"))
        #expect(try analyzed.t5ModelIfAny() == nil)
    }

    @Test func writesAConfigTransformersReads() throws {
        let model = try AnalyzedCheckpoint(opening: Fixtures.sample).t5.get()
        let json = model.config.configJSON(torchDType: "bfloat16")
        #expect(try T5Config(json: json, path: "generated") == model.config)
        #expect(json["torch_dtype"]?.stringValue == "bfloat16")
        #expect(json["dense_act_fn"]?.stringValue == "relu")
    }
}
