import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import Verify

/// Mesh-TF checkpoints are checked as they are stored, against an outside reference: what
/// transformers' `load_tf_weights_in_t5` makes of the same TensorFlow-written checkpoint
/// (Tests/Fixtures/tf/expected, from Scripts/make-fixtures.py). zoo's name table and transposes
/// are not used on the Mesh-TF side, so a mistake in them cannot cancel out.
@Suite struct MeshTFParityTests {
    private let temporary = TemporaryDirectory()

    static let cases = ["sample_meshtf", "gated_untied_meshtf"]

    @Test(arguments: cases)
    func transformersLoaderOutputMatchesTheCheckpointAsStored(_ name: String) throws {
        let meshTF = try AnalyzedCheckpoint(opening: Fixtures.url("tf/\(name)"))
        let loaded = try AnalyzedCheckpoint(opening: Fixtures.url("tf/expected/\(name).safetensors"))
        #expect(T5Naming.of(meshTF.checkpoint) == .meshTF)
        let report = try Parity.check(loaded, against: meshTF)
        #expect(report.passed)
        #expect(report.tensors.missing.isEmpty && report.tensors.extra.isEmpty)
        // Every weight of the model, each bf16 value widened exactly by the loader.
        let model = try meshTF.t5.get()
        #expect(report.tensors.tensors.count == T5Parameter.all(model.config).count)
        #expect(report.tensors.maxAbsoluteError == 0)
        let logits = try #require(report.logits)
        #expect(logits.limits == .otherLayout)
        #expect(logits.topOneAgreement == 1)
    }

    @Test(arguments: cases)
    func zooConversionMatchesTheTransformersLoaderBitForBit(_ name: String) throws {
        let output = temporary.path("\(name)-hf")
        let result = try VerifiedConversion.run(
            .init(source: Fixtures.url("tf/\(name)"), destination: output, dtype: .f32))
        #expect(result.parity?.passed == true)
        let converted = try AnalyzedCheckpoint(opening: output)
        let loaded = try AnalyzedCheckpoint(opening: Fixtures.url("tf/expected/\(name).safetensors"))
        let comparison = CheckpointComparison(converted.checkpoint, against: loaded.checkpoint)
        #expect(comparison.passed)
        #expect(comparison.bitExactCount == comparison.tensors.count)
    }

    /// A transformers checkpoint with one mistake a name table could make: the comparison, which
    /// reads the Mesh-TF side by its own names, names the tensors that went wrong.
    @Test(arguments: [
        (
            "swapped q and k",
            [
                "encoder.block.0.layer.0.SelfAttention.q.weight": "encoder.block.0.layer.0.SelfAttention.k.weight",
                "encoder.block.0.layer.0.SelfAttention.k.weight": "encoder.block.0.layer.0.SelfAttention.q.weight",
            ]
        ),
        (
            "self and cross attention swapped",
            [
                "decoder.block.1.layer.0.SelfAttention.v.weight": "decoder.block.1.layer.1.EncDecAttention.v.weight",
                "decoder.block.1.layer.1.EncDecAttention.v.weight": "decoder.block.1.layer.0.SelfAttention.v.weight",
            ]
        ),
    ])
    func aWrongMappingIsCaught(_ mistake: String, _ swaps: [String: String]) throws {
        let meshTF = try AnalyzedCheckpoint(opening: Fixtures.url("tf/sample_meshtf"))
        let loaded = try AnalyzedCheckpoint(opening: Fixtures.url("tf/expected/sample_meshtf.safetensors"))
        let broken = try write(loaded.checkpoint, as: "broken-\(mistake)") { tensor in
            swaps[tensor.name].flatMap { loaded.checkpoint.tensor(named: $0)?.renamed(tensor.name) } ?? tensor
        }
        let report = try Parity.check(broken, against: meshTF)
        #expect(!report.tensors.passed, "\(mistake)")
        #expect(Set(report.tensors.tensors.filter { !$0.passed }.map(\.name)) == Set(swaps.keys))
    }

    /// A kernel left untransposed (square, so the shapes still fit) is caught value by value.
    @Test func anUntransposedKernelIsCaught() throws {
        let meshTF = try AnalyzedCheckpoint(opening: Fixtures.url("tf/sample_meshtf"))
        let loaded = try AnalyzedCheckpoint(opening: Fixtures.url("tf/expected/sample_meshtf.safetensors"))
        let name = try #require(
            loaded.checkpoint.tensors.first {
                $0.shape.count == 2 && $0.shape[0] == $0.shape[1] && $0.name.hasSuffix(".o.weight")
            }
        ).name
        let broken = try write(loaded.checkpoint, as: "untransposed") { tensor in
            tensor.name == name ? (try? CheckpointComparison.transposed(tensor)) ?? tensor : tensor
        }
        let report = try Parity.check(broken, against: meshTF)
        #expect(!report.tensors.passed)
        #expect(report.tensors.tensors.filter { !$0.passed }.map(\.name) == [name])
    }

    private func write(_ checkpoint: Checkpoint, as name: String, _ change: (TensorRef) -> TensorRef) throws
        -> AnalyzedCheckpoint
    {
        let directory = temporary.path(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafetensorsWriter.writeFile(
            checkpoint.tensors.map { change($0) }, metadata: ["format": "pt"],
            at: directory.appendingPathComponent("model.safetensors").path)
        return try AnalyzedCheckpoint(opening: directory)
    }
}
