import Foundation
import TestSupport
import Testing

@testable import Formats

/// A Mesh-TF checkpoint written in each newer spelling the reader accepts converts with
/// verification on: the verifier's own layout knows every spelling too (it did not, and a
/// verified conversion failed with "tensor '.../layer_norm/scale' is missing").
@Suite struct MeshTFSpellingsCLITests {
    /// How a spelling renames an original-spelling variable name.
    enum Spelling: String, CaseIterable {
        /// `rms_norm` for every `layer_norm` and `final_layer_norm`.
        case rmsNorm
        /// Sub-layers by alias, the module name kept: `self_attention/SelfAttention/q`.
        case aliasesWithModule
        /// Sub-layers by alias, the module name left out: `self_attention/q`.
        case aliasesWithoutModule
        /// Both at once: `dense_relu_dense/rms_norm/scale`, `encoder/rms_norm/scale`.
        case everything

        func rename(_ name: String) -> String {
            var parts = name.split(separator: "/").map(String.init)
            let aliases = self != .rmsNorm
            let rms = self == .rmsNorm || self == .everything
            if rms, parts.count == 3, parts[1] == "final_layer_norm" { parts[1] = "rms_norm" }
            guard parts.count >= 5, parts[1].hasPrefix("block_") else { return parts.joined(separator: "/") }
            if rms, parts[3] == "layer_norm" { parts[3] = "rms_norm" }
            if aliases {
                switch (parts[0], parts[2]) {
                case (_, "layer_000"): parts[2] = "self_attention"
                case ("decoder", "layer_001"): parts[2] = "enc_dec_attention"
                default: parts[2] = "dense_relu_dense"
                }
                let modules = ["SelfAttention", "EncDecAttention", "DenseReluDense"]
                if self != .aliasesWithModule, modules.contains(parts[3]) { parts.remove(at: 3) }
            }
            return parts.joined(separator: "/")
        }
    }

    /// The sample Mesh-TF fixture rewritten in `spelling`, with its gin file; the names changed.
    private static func write(_ spelling: Spelling, into directory: URL) throws -> Set<String> {
        let fixture = Fixtures.url("tf/sample_meshtf")
        let source = try Checkpoint.open(fixture)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let renamed = source.tensors.map { $0.renamed(spelling.rename($0.name)) }
        _ = try TensorBundle.write(renamed, prefix: directory.appendingPathComponent("model.ckpt-524288"))
        // The writer writes the `checkpoint` file; the gin file comes from the fixture.
        try FileManager.default.copyItem(
            at: fixture.appendingPathComponent("operative_config.gin"),
            to: directory.appendingPathComponent("operative_config.gin"))
        return Set(renamed.map(\.name)).subtracting(source.tensors.map(\.name))
    }

    @Test(arguments: Spelling.allCases)
    func aVerifiedConversionReadsEverySpelling(_ spelling: Spelling) throws {
        let temporary = TemporaryDirectory()
        let source = temporary.path("mesh")
        let respelled = try Self.write(spelling, into: source)
        #expect(!respelled.isEmpty, "the \(spelling) spelling renamed nothing")

        let convert = try ZooBinary.run(["convert", source.path, temporary.path("out.safetensors").path])
        #expect(convert.status == 0, "\(spelling): \(convert.stderr)")
        // And the checkpoint itself, checked and run in its own layout.
        let verify = try ZooBinary.run(["verify", source.path, temporary.path("out.safetensors").path])
        #expect(verify.status == 0, "\(spelling): \(verify.stderr)")
    }
}
