import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import Verify

/// Proof that the parity check can fail: each broken copy of the sample must be caught.
@Suite struct ParityTests {
    private let sample: AnalyzedCheckpoint
    private let temporary = TemporaryDirectory()

    init() throws {
        sample = try AnalyzedCheckpoint(opening: Fixtures.sample)
    }

    /// A copy of the sample directory with some tensors replaced and an optional config change.
    private func brokenCopy(
        _ name: String, replacing replacements: [String: [Float]] = [:], renaming: [String: String] = [:],
        extra: [TensorRef] = [], config: (JSONValue) -> JSONValue = { $0 }
    ) throws -> AnalyzedCheckpoint {
        let directory = temporary.path(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var tensors: [any TensorByteSource] = []
        for tensor in sample.checkpoint.tensors {
            let source = renaming[tensor.name].flatMap { sample.checkpoint.tensor(named: $0) } ?? tensor
            if let values = replacements[tensor.name] {
                tensors.append(FloatValues(spec: tensor.spec, values: values))
            } else {
                tensors.append(source.renamed(tensor.name))
            }
        }
        tensors += extra.map { $0 as any TensorByteSource }
        try SafetensorsWriter.writeFile(
            tensors, metadata: ["format": "pt"], at: directory.appendingPathComponent("model.safetensors").path)
        let json = try #require(sample.configJSON)
        try Data((config(json).prettyPrinted() + "\n").utf8).write(to: directory.appendingPathComponent("config.json"))
        return try AnalyzedCheckpoint(opening: directory)
    }

    /// A verified conversion that fails after planning (the destination's parent is a file) has
    /// cancelled and joined the source's forward pass it started before it throws.
    @Test func aFailedConversionLeavesNoJobRunning() throws {
        let directory = TemporaryDirectory()
        let model = directory.path("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        try SyntheticT5.write(into: model)
        try Data().write(to: directory.path("file"))
        for _ in 0..<5 {
            #expect(throws: CheckpointError.self) {
                try VerifiedConversion.run(.init(source: model, destination: directory.path("file/out")))
            }
            #expect(BackgroundJobs.running == 0)
        }
    }

    @Test func anIdenticalCopyPassesBitForBit() throws {
        let report = try Parity.check(try brokenCopy("same"), against: sample)
        #expect(report.passed)
        #expect(report.logits?.maxAbsoluteError == 0)
    }

    /// sqrt(2) * sqrt(2) is 2.0000000000000004: identical logits whose squared norm is 2 must still
    /// have a cosine of exactly 1 (a large-dm128 Mesh-TF conversion failed its parity this way).
    @Test func identicalLogitsHaveACosineOfExactlyOne() {
        let comparison = LogitComparison([1, 1], [1, 1], vocabularySize: 2, limits: .identical)
        #expect(comparison.cosineSimilarity == 1)
        #expect(comparison.passed)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let logits = (0..<97).map { _ in Float.random(in: -30...30, using: &generator) }
            #expect(LogitComparison(logits, logits, vocabularySize: 97, limits: .identical).cosineSimilarity == 1)
        }
    }

    @Test func oneElementPerturbedFails() throws {
        let name = "decoder.block.1.layer.2.DenseReluDense.wo.weight"
        var values = try floats(name)
        values[1234] += 1e-3
        let report = try Parity.check(try brokenCopy("perturbed", replacing: [name: values]), against: sample)
        #expect(!report.passed)
        let failed = report.tensors.tensors.filter { !$0.passed }
        #expect(failed.map(\.name) == [name] && failed.first?.firstMismatch == 1234)
    }

    @Test func twoLayersSwappedFail() throws {
        let first = "encoder.block.1.layer.1.DenseReluDense.wi.weight"
        let second = "encoder.block.2.layer.1.DenseReluDense.wi.weight"
        let report = try Parity.check(
            try brokenCopy("swapped", renaming: [first: second, second: first]), against: sample)
        #expect(!report.passed)
        #expect(Set(report.tensors.tensors.filter { !$0.passed }.map(\.name)) == [first, second])
        #expect(report.logits?.passed == false, "the logits move too")
    }

    @Test func removingTheTiedScalingFails() throws {
        // Same weights, but declared untied with lm_head = shared: transformers would then skip the
        // d_model^-0.5 scaling. Every tensor still matches; only the forward pass can tell.
        let shared = try #require(sample.checkpoint.tensor(named: "shared.weight"))
        let broken = try brokenCopy("unscaled", extra: [shared.renamed("lm_head.weight")]) {
            $0.setting("tie_word_embeddings", to: .bool(false))
        }
        let report = try Parity.check(broken, against: sample)
        #expect(report.tensors.passed)
        #expect(report.logits?.passed == false)
        #expect((report.logits?.maxAbsoluteError ?? 0) > 1)
        #expect(
            (report.logits?.cosineSimilarity ?? 0) > 0.999, "the direction is unchanged: cosine alone would miss it")
    }

    @Test func aBF16ConversionPassesWithinItsLimits() throws {
        let destination = temporary.path("bf16")
        _ = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.sample, destination: destination, dtype: .bf16)))
        let report = try Parity.check(try AnalyzedCheckpoint(opening: destination), against: sample)
        #expect(report.passed && report.roundedTo == .bf16)
        #expect(report.tensors.bitExactCount == 0)
    }

    /// bf16 -> fp16 keeps the size but rounds (tiny values become fp16 subnormals): it is checked
    /// with fp16's limits and run in fp16, not held to bit-identical logits.
    @Test func aBF16ToFP16ConversionIsCheckedAsRounding() throws {
        let bf16 = temporary.path("gated-bf16")
        _ = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.url("t5_gated_untied"), destination: bf16, dtype: .bf16)))
        let fp16 = temporary.path("gated-fp16")
        _ = try Converter.run(try ConversionPlan(.init(source: bf16, destination: fp16, dtype: .f16)))
        let report = try Parity.check(
            try AnalyzedCheckpoint(opening: fp16), against: try AnalyzedCheckpoint(opening: bf16))
        #expect(report.roundedTo == .f16 && report.precision == .fp16)
        #expect(report.passed)
    }

    @Test func anFP16ConversionWhoseActivationsOverflowFails() throws {
        let destination = temporary.path("overflow-f16")
        let source = try AnalyzedCheckpoint(opening: Fixtures.url("overflow_fp16"))
        _ = try Converter.run(
            try ConversionPlan(.init(source: Fixtures.url("overflow_fp16"), destination: destination, dtype: .f16)))
        let report = try Parity.check(try AnalyzedCheckpoint(opening: destination), against: source)
        #expect(report.precision == .fp16)
        #expect(report.tensors.passed, "every weight is within fp16 rounding")
        #expect(report.overflowedActivations > 0)
        #expect(report.logits?.passed == false && !report.passed)
    }

    private func floats(_ name: String) throws -> [Float] {
        let tensor = try #require(sample.checkpoint.tensor(named: name))
        return tensor.withUnsafeBytes { bytes in
            (0..<tensor.spec.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
    }
}

/// An F32 tensor from values in memory.
private struct FloatValues: TensorByteSource {
    let spec: TensorSpec
    let values: [Float]
    var outputSpec: TensorSpec { spec }
    func emit(into sink: inout some ByteSink) throws {
        try values.withUnsafeBytes { try sink.write($0) }
    }
}

/// `VerifiedConversion` commits only what passed, and says what it checked.
@Suite struct VerifiedConversionTests {
    @Test func aPassingConversionCommitsTheOutputWithItsManifestAndReport() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("bf16")
        let result = try VerifiedConversion.run(.init(source: Fixtures.sample, destination: destination, dtype: .bf16))
        let parity = try #require(result.parity)
        #expect(parity.passed && parity.roundedTo == .bf16 && parity.logits != nil)
        #expect(result.manifest == destination.appendingPathComponent("SHA256SUMS"))
        #expect(try ChecksumManifest.check(result.manifest).allSatisfy(\.passed))
        #expect(temporary.contents() == ["bf16"])
    }

    @Test func aSingleFileGetsItsSidecarAndSkippingTheCheckIsExplicit() throws {
        let temporary = TemporaryDirectory()
        let destination = temporary.path("model.safetensors")
        let result = try VerifiedConversion.run(.init(source: Fixtures.sample, destination: destination), verify: false)
        #expect(result.parity == nil)
        #expect(result.manifest.lastPathComponent == "model.safetensors.sha256")
        #expect(Set(temporary.contents()) == ["model.safetensors", "model.safetensors.sha256"])
    }

    /// fp16 conversion of a model whose activations overflow fp16: refused, nothing written.
    @Test func aFailingParityCheckLeavesNothingBehind() throws {
        let temporary = TemporaryDirectory()
        #expect {
            _ = try VerifiedConversion.run(
                .init(source: Fixtures.url("overflow_fp16"), destination: temporary.path("fp16"), dtype: .f16))
        } throws: { error in
            guard let failure = error as? ParityFailure else { return false }
            return !failure.report.passed && failure.destination.lastPathComponent == "fp16"
        }
        #expect(temporary.contents().isEmpty)
    }
}
