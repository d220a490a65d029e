import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// The transform chain each recipe of a plan states, for the outputs that need one of each kind.
@Suite struct TensorRecipeTests {
    static func plan(_ destination: String, dtype: DType?, format: OutputFormat? = nil) throws -> ConversionPlan {
        let temporary = TemporaryDirectory()
        return try ConversionPlan(
            .init(
                source: Fixtures.sample, destination: temporary.path(destination), dtype: dtype, format: format,
                tokenizer: Fixtures.url("spm/spiece.model")))
    }

    static func recipe(_ plan: ConversionPlan, _ name: String) throws -> TensorRecipe {
        try #require(plan.tensors.first { $0.output.name == name })
    }

    @Test func aCastIsOneStepAndACopyNone() throws {
        let bf16 = try Self.plan("out", dtype: .bf16)
        #expect(try Self.recipe(bf16, "shared.weight").transforms == [.cast(to: .bf16)])
        let copy = try Self.plan("copy", dtype: nil)
        #expect(copy.tensors.allSatisfy { $0.transforms.isEmpty })
    }

    @Test func aMeshTFKernelIsTransposedThenCast() throws {
        let plan = try Self.plan("mesh", dtype: .bf16, format: .tensorflow)
        let kernel = try Self.recipe(plan, "encoder/block_000/layer_000/SelfAttention/q")
        #expect(kernel.transforms == [.transpose, .cast(to: .bf16)])
        #expect(kernel.output.shape == kernel.source.shape.reversed())
    }

    @Test func aGGUFTiedHeadIsScaledThenQuantized() throws {
        let plan = try Self.plan("model.gguf", dtype: .q8_0)
        let head = try Self.recipe(plan, "output.weight")
        let scale = try #require(head.scale)
        #expect(head.transforms == [.scale(scale), .quantize(to: .q8_0)])
        // Norms stay F32, as llama.cpp stores them: a copy of the F32 source.
        #expect(try Self.recipe(plan, "dec.output_norm.weight").transforms.isEmpty)
    }
}
