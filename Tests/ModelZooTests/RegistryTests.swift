import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import ModelZoo

@Suite struct RegistryTests {
    static let registry = Result { try Registry.bundled() }
    static let cases = Result {
        try JSONParser.parse(Array(try Data(contentsOf: Fixtures.url("registry/name_cases.json"))))
    }

    @Test func holdsTheWholeFamilyOnce() throws {
        let registry = try Self.registry.get()
        #expect(registry.checkpoints.count == 170)
        #expect(Set(registry.checkpoints.map(\.name)).count == 170)
        #expect(registry.checkpoints.filter { !$0.isSupported }.count == 10)
        // The top-level registry.json is the same file.
        let top = try Registry.load(Fixtures.repository.appendingPathComponent("registry.json"))
        #expect(top.checkpoints.map(\.name) == registry.checkpoints.map(\.name))
    }

    /// `feed_forward_proj`, `status` and `upstream` are closed sets: a value outside them makes
    /// the registry invalid instead of becoming a default (an unknown activation used to read as relu).
    @Test(arguments: [
        ("\"feed_forward_proj\": \"relu\"", "\"feed_forward_proj\": \"swiglu\""),
        ("\"status\": \"supported\"", "\"status\": \"maybe\""),
        ("\"upstream\": \"complete\"", "\"upstream\": \"partial\""),
    ])
    func anUnknownValueOfAClosedSetIsAnError(_ original: String, _ replacement: String) throws {
        let temporary = TemporaryDirectory()
        let text = try String(contentsOf: Fixtures.repository.appendingPathComponent("registry.json"), encoding: .utf8)
        #expect(text.contains(original))
        let url = temporary.path("registry.json")
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        #expect {
            try Registry.load(url)
        } throws: { error in
            guard case .invalidRegistry = error as? ModelZooError else { return false }
            return true
        }
    }

    @Test func parameterCountsComeFromTheCodeThatChecksCheckpoints() throws {
        for entry in try Self.registry.get().checkpoints {
            guard let parameters = entry.parameters else {
                #expect(!entry.isSupported, "\(entry.name): only shared-parameter variants have no count")
                continue
            }
            let config = entry.architecture.config
            #expect(config.parameterCount == parameters, "\(entry.name)")
            let parts = config.parameterBreakdown
            #expect(
                entry.parameterBreakdown
                    == Registry.Breakdown(embedding: parts.embedding, encoder: parts.encoder, decoder: parts.decoder))
            #expect(entry.bytes == Registry.Sizes(fp32: 4 * parameters, fp16: 2 * parameters, bf16: 2 * parameters))
        }
    }

    @Test func everyNameFollowsTheGrammarOrIsADocumentedAnomaly() throws {
        let registry = try Self.registry.get()
        let anomalies = Set(
            (try Self.cases.get()["anomalies"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        #expect(anomalies.count == 5)
        for entry in registry.checkpoints {
            let name = try ModelName(parsing: entry.name)
            #expect(name.base == entry.base, "\(entry.name)")
            let base = try #require(registry.bases[entry.base]).config
            let ruled = name.architecture(base: base)
            let recorded = entry.architecture.config
            if anomalies.contains(entry.name) {
                #expect(ruled != recorded, "\(entry.name) is listed as an anomaly but follows the rule")
                #expect(entry.notes.contains { !$0.isEmpty }, "\(entry.name) explains its anomaly")
            } else {
                #expect(ruled == recorded, "\(entry.name): the naming rule gives \(ruled)")
            }
            #expect((name.sharing != nil) == !entry.isSupported, "\(entry.name): only sh/skv/shkv are unsupported")
        }
    }

    @Test func nameCasesParseAsRecorded() throws {
        let registry = try Self.registry.get()
        for item in try Self.cases.get()["cases"]?.arrayValue ?? [] {
            let text = try #require(item["name"]?.stringValue)
            do {
                let name = try ModelName(parsing: text)
                let base = try #require(registry.bases[name.base]).config
                let expected = try #require(item["expected_architecture"], "\(text) should have failed")
                let architecture = name.architecture(base: base)
                #expect(architecture.numLayers == expected["num_layers"]?.intValue, "\(text)")
                #expect(architecture.numDecoderLayers == expected["num_decoder_layers"]?.intValue, "\(text)")
                #expect(architecture.dModel == expected["d_model"]?.intValue, "\(text)")
                #expect(architecture.dFF == expected["d_ff"]?.intValue, "\(text)")
                #expect(architecture.dKV == expected["d_kv"]?.intValue, "\(text)")
                #expect(architecture.numHeads == expected["num_heads"]?.intValue, "\(text)")
            } catch let error as ModelNameError {
                #expect(error.caseName == item["expected_error"]?.stringValue, "\(text): \(error)")
            }
        }
    }

    @Test func recordsTheDocumentedDiscrepancies() throws {
        let registry = try Self.registry.get()
        func entry(_ name: String) throws -> Registry.Entry { try registry.requireEntry(name) }
        // dm1000 and ffN000 count thousands of 1024.
        #expect(try entry("t5-efficient-small-dm1000").architecture.dModel == 1024)
        #expect(
            try ModelName(parsing: "t5-efficient-small-ff6000").architecture(
                base: try entry("t5-efficient-small").architecture.config
            ).dFF == 6144)
        // xxl-nl4 is not xxl with four layers.
        let xxlNL4 = try entry("t5-efficient-xxl-nl4").architecture
        #expect(xxlNL4.dKv == 64 && xxlNL4.numHeads == 32 && xxlNL4.numLayers == 4)
        // Tiny el/dl runs have 12 layers on the other stack.
        #expect(try entry("t5-efficient-tiny-el8").architecture.numDecoderLayers == 12)
        #expect(try entry("t5-efficient-tiny-dl6").architecture.numLayers == 12)
        // The model card's kv table is wrong for tiny: the weights have d_kv 64.
        #expect(try entry("t5-efficient-tiny").architecture.dKv == 64)
        #expect(try entry("t5-efficient-tiny").notes.contains { $0.contains("kv=32") })
        // Upstream folders with no or incomplete checkpoints (google-research issue #986).
        #expect(try entry("t5-efficient-large-nh8-nl16").upstream == .missing)
        #expect(try entry("t5-efficient-large-nh8-nl32").upstream == .incomplete)
        #expect(try entry("t5-efficient-xl-nl28").upstream == .incomplete)
        // Shared-parameter variants are refused with the reason.
        for name in ["t5-efficient-tiny-sh", "t5-efficient-base-skv", "t5-efficient-small-shkv"] {
            let variant = try entry(name)
            #expect(!variant.isSupported && !(variant.statusReason ?? "").isEmpty, "\(name)")
        }
    }

    @Test func unknownNamesSuggestTheClosest() throws {
        let registry = try Self.registry.get()
        #expect(
            throws: ModelZooError.unknownCheckpoint(
                name: "t5-efficient-large-dm129",
                closest: ["t5-efficient-large-dm128", "t5-efficient-large-dl12", "t5-efficient-large-dm512"])
        ) {
            try registry.requireEntry("t5-efficient-large-dm129")
        }
    }

    @Test(arguments: ["t5-efficient-tiny", "t5-efficient-tiny-el8", "t5-efficient-tiny-nh8"])
    func generatedCheckpointsCountAndMatchLikeTheRegistry(_ name: String) throws {
        let registry = try Self.registry.get()
        let entry = try registry.requireEntry(name)
        let config = entry.architecture.config
        let temporary = TemporaryDirectory()
        let path = temporary.path("model.safetensors").path
        let tensors: [any TensorByteSource] = try config.expectedTensors.map { tensor in
            Zeros(outputSpec: try #require(TensorSpec(name: tensor.name, dtype: .f32, shape: tensor.shape)))
        }
        try SafetensorsWriter.writeFile(tensors, metadata: ["format": "pt"], at: path)
        let model = try T5Model(try Checkpoint.open(URL(fileURLWithPath: path)))
        #expect(model.parameterCount == entry.parameters)
        let matches = registry.entries(matching: model.config).map(\.name)
        #expect(matches.contains(name))
        #expect(
            !matches.contains { $0.hasSuffix("-sh") || $0.hasSuffix("-skv") },
            "a standard layout is never a shared variant")
    }
}

/// A tensor of zeros, emitted without holding it.
private struct Zeros: TensorByteSource {
    let outputSpec: TensorSpec

    func emit(into sink: inout some ByteSink) throws {
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var left = outputSpec.byteCount
        while left > 0 {
            let count = min(left, chunk.count)
            try chunk.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            left -= count
        }
    }
}
