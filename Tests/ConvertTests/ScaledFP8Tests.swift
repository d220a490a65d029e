import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// Scaled fp8 checkpoints are refused by name when opened, whatever else they hold: their
/// weights are meaningless without the per-weight scales zoo does not apply yet.
@Suite struct ScaledFP8Tests {
    @Test(arguments: ["scale_weight", "weight_scale", "scale_input", "input_scale"])
    func refusesEveryPerWeightScale(scale: String) throws {
        let temporary = TemporaryDirectory()
        let file = temporary.path("scaled.safetensors")
        // Without the marker, so each scale name is what is refused.
        try SafetensorsFixture.write(
            [
                ("a.weight", "F8_E4M3", [2, 2], 4),
                ("a.\(scale)", "F32", [], 4),
            ], at: file)
        #expect(throws: ConvertError.scaledFP8(path: file.path, tensor: "a.\(scale)")) {
            try AnalyzedCheckpoint(opening: file)
        }
    }

    @Test func refusesTheMarkerAlone() throws {
        let temporary = TemporaryDirectory()
        let file = temporary.path("marked.safetensors")
        try SafetensorsFixture.write(
            [("a.weight", "F8_E4M3", [2, 2], 4), ("scaled_fp8", "F8_E4M3", [0], 0)], at: file)
        #expect(throws: ConvertError.scaledFP8(path: file.path, tensor: "scaled_fp8")) {
            try AnalyzedCheckpoint(opening: file)
        }
    }

    @Test func refusesAT5ModelWithAScale() throws {
        let temporary = TemporaryDirectory()
        let sample = try Checkpoint.open(Fixtures.sample)
        let file = temporary.path("model.safetensors")
        let scale = try #require(sample.tensors.first { $0.shape.isEmpty == false && $0.name.hasSuffix(".q.weight") })
        try SafetensorsWriter.writeFile(
            sample.tensors + [scale.renamed(scale.name.replacingOccurrences(of: ".weight", with: ".weight_scale"))],
            metadata: [:], at: file.path)
        let error = #expect(throws: ConvertError.self) { try AnalyzedCheckpoint(opening: file) }
        #expect(error?.description.contains("scaled fp8") == true)
    }

    @Test func namesTheFileTheTensorAndWhy() {
        let message = ConvertError.scaledFP8(path: "/m/model.safetensors", tensor: "scaled_fp8").description
        #expect(message.hasPrefix("/m/model.safetensors: tensor 'scaled_fp8' "))
        #expect(message.contains("zoo does not read scaled fp8 yet"))
    }

    @Test func leavesOrdinaryNamesAlone() {
        for name in [
            "encoder.block.0.layer.0.layer_norm.weight", "encoder/block_000/layer_000/layer_norm/scale",
            "shared.weight", "decoder/rms_norm/scale", "scaled_fp8_extra.weight",
        ] {
            #expect(!ScaledFP8.isScaleOrMarker(name), "\(name)")
        }
        #expect(ScaledFP8.isScaleOrMarker("encoder/block_000/layer_000/SelfAttention/q/scale_weight"))
    }
}
