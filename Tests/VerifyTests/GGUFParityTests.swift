import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import Verify

/// GGUF T5 files, both ways: files laid out as llama.cpp's converter writes them (gguf-py's
/// writer, Tests/Fixtures/gguf_t5 from Scripts/make-fixtures.py) read as the transformers model
/// they came from, and zoo's own GGUF outputs checked by the usual parity check, Q8_0 included.
@Suite struct GGUFParityTests {
    private let temporary = TemporaryDirectory()
    private let tokenizer = Fixtures.url("spm/spiece.model")

    // MARK: Files written by llama.cpp's converter layout

    @Test func converterF32FileIsTheSampleBitForBit() throws {
        let gguf = try AnalyzedCheckpoint(opening: Fixtures.url("gguf_t5/converter_f32.gguf"))
        let sample = try AnalyzedCheckpoint(opening: Fixtures.sample)
        #expect(T5Naming.of(gguf.checkpoint) == .gguf)
        let model = try gguf.t5.get()
        let sampleModel = try sample.t5.get()
        #expect(model.config == sampleModel.config)
        let report = try Parity.check(gguf, against: sample)
        #expect(report.passed)
        #expect(report.tensors.missing.isEmpty && report.tensors.extra.isEmpty)
        #expect(report.tensors.bitExactCount == report.tensors.tensors.count)
        #expect(report.tensors.tensors.count == T5Parameter.all(model.config).count)
    }

    /// zoo's dequantization of the converter's Q8_0 file equals gguf.quants.dequantize's.
    @Test func converterQ8_0FileDequantizesAsGGUFPyDoes() throws {
        let output = temporary.path("q8.safetensors")
        let result = try VerifiedConversion.run(
            .init(source: Fixtures.url("gguf_t5/converter_q8_0.gguf"), destination: output, dtype: .f32))
        #expect(result.parity?.passed == true)
        let converted = try AnalyzedCheckpoint(opening: output)
        let expected = try AnalyzedCheckpoint(opening: Fixtures.url("gguf_t5/expected_q8_0.safetensors"))
        let comparison = CheckpointComparison(converted.checkpoint, against: expected.checkpoint)
        #expect(comparison.passed && comparison.missing.isEmpty && comparison.extra.isEmpty)
        #expect(comparison.bitExactCount == comparison.tensors.count)
    }

    /// Gated-GELU, untied head, more decoder than encoder layers: `ffn_gate` / `ffn_up` are
    /// `wi_0` / `wi_1`, `output` the head; every F16 weight is its source's correct rounding.
    @Test func converterGatedUntiedF16FileIsItsSourceRoundedToF16() throws {
        let gguf = try AnalyzedCheckpoint(opening: Fixtures.url("gguf_t5/converter_gated_f16.gguf"))
        let source = try AnalyzedCheckpoint(opening: Fixtures.url("t5_gated_untied"))
        let model = try gguf.t5.get()
        #expect(model.config.feedForward == .gatedGelu && !model.config.tieWordEmbeddings)
        let sourceModel = try source.t5.get()
        #expect(model.config.numDecoderLayers == sourceModel.config.numDecoderLayers)
        let report = try Parity.check(gguf, against: source)
        #expect(report.passed)
        #expect(report.roundedTo == .f16)
        #expect(report.tensors.missing.isEmpty && report.tensors.extra.isEmpty)
    }

    /// The file llama.cpp's own `convert_hf_to_gguf.py` wrote (provenance beside it): read as the
    /// sample, and zoo's Q8_0 conversion of the sample holds the same bytes for every tensor the
    /// converter writes (zoo adds only the rescaled tied head).
    @Test func llamaCppConverterFileMatchesZoosOwnQ8_0Bytes() throws {
        let converter = Fixtures.url("gguf_t5/llamacpp_converter_q8_0.gguf")
        let sample = try AnalyzedCheckpoint(opening: Fixtures.sample)
        let report = try Parity.check(try AnalyzedCheckpoint(opening: converter), against: sample)
        #expect(report.passed && report.roundedTo == .q8_0)
        #expect(report.tensors.missing.isEmpty && report.tensors.extra.isEmpty)

        let output = temporary.path("zoo-q8.gguf")
        _ = try VerifiedConversion.run(
            .init(source: Fixtures.sample, destination: output, dtype: .q8_0, tokenizer: tokenizer))
        let theirs = try GGUFReader.read(converter).checkpoint
        let ours = try GGUFReader.read(output).checkpoint
        #expect(Set(ours.tensors.map(\.name)) == Set(theirs.tensors.map(\.name) + ["output.weight"]))
        for tensor in theirs.tensors {
            let mine = try #require(ours.tensor(named: tensor.name))
            #expect(mine.dtype == tensor.dtype && mine.shape == tensor.shape, "\(tensor.name)")
            #expect(mine.firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
    }

    // MARK: zoo's GGUF outputs

    @Test(arguments: [DType.f32, .f16, .bf16, .q8_0])
    func sampleConvertsToGGUFAndBack(_ dtype: DType) throws {
        let output = temporary.path("sample-\(dtype.rawValue).gguf")
        let result = try VerifiedConversion.run(
            .init(source: Fixtures.sample, destination: output, dtype: dtype, tokenizer: tokenizer))
        let parity = try #require(result.parity)
        #expect(parity.passed)
        #expect(parity.roundedTo == (dtype == .f32 ? nil : dtype))
        #expect(parity.tensors.missing.isEmpty && parity.tensors.extra.isEmpty)

        let (file, checkpoint) = try GGUFReader.read(output)
        let config = try AnalyzedCheckpoint(opening: Fixtures.sample).t5.get().config
        #expect(file.value(forKey: GGUFT5Metadata.Key.architecture) == .string("t5"))
        #expect(file.value(forKey: GGUFT5Metadata.Key.blockCount) == .uint32(UInt32(config.numLayers)))
        #expect(file.value(forKey: GGUFT5Metadata.Key.decoderBlockCount) == .uint32(UInt32(config.numDecoderLayers)))
        #expect(file.value(forKey: GGUFT5Metadata.Key.fileType) == .uint32(GGUFT5Metadata.fileType(dtype)))
        #expect(file.value(forKey: GGUFT5Metadata.Key.tiedHeadScale) == .float32(0.125))
        #expect(file.value(forKey: GGUFVocabulary.Key.model) == .string("t5"))
        // Norms stay F32; the bias table's rows (4 heads) are not Q8_0 blocks, so it is F16.
        #expect(checkpoint.tensor(named: "enc.blk.0.attn_norm.weight")?.dtype == .f32)
        #expect(checkpoint.tensor(named: "enc.blk.0.attn_rel_b.weight")?.dtype == (dtype == .q8_0 ? .f16 : dtype))
        #expect(checkpoint.tensor(named: "output.weight")?.dtype == dtype)

        // Read back, the file is the tied model again.
        let back = temporary.path("back-\(dtype.rawValue)")
        let returned = try VerifiedConversion.run(.init(source: output, destination: back, dtype: .f32))
        #expect(returned.parity?.passed == true)
        let returnedModel = try AnalyzedCheckpoint(opening: back)
        #expect(try returnedModel.t5.get().config.tieWordEmbeddings)
        if dtype == .f32 {
            let comparison = CheckpointComparison(
                returnedModel.checkpoint, against: try AnalyzedCheckpoint(opening: Fixtures.sample).checkpoint)
            #expect(comparison.passed && comparison.bitExactCount == comparison.tensors.count)
        }
    }

    /// Q8_0 GGUF -> Mesh-TF (dequantized, transposed) -> Q8_0 GGUF (transposed back, quantized
    /// again): every tensor comes back byte for byte, each conversion verified on the way.
    @Test func q8_0SurvivesARoundTripThroughMeshTF() throws {
        let first = temporary.path("first.gguf")
        _ = try VerifiedConversion.run(
            .init(source: Fixtures.sample, destination: first, dtype: .q8_0, tokenizer: tokenizer))
        let meshTF = temporary.path("meshtf")
        let toMeshTF = try VerifiedConversion.run(.init(source: first, destination: meshTF, format: .tensorflow))
        #expect(toMeshTF.parity?.passed == true)
        let second = temporary.path("second.gguf")
        let back = try VerifiedConversion.run(
            .init(source: meshTF, destination: second, dtype: .q8_0, tokenizer: tokenizer))
        #expect(back.parity?.passed == true)
        let (a, b) = (try GGUFReader.read(first).checkpoint, try GGUFReader.read(second).checkpoint)
        #expect(a.tensors.map(\.name) == b.tensors.map(\.name))
        for tensor in a.tensors {
            let other = try #require(b.tensor(named: tensor.name))
            #expect(other.dtype == tensor.dtype && other.firstDifference(from: tensor) == nil, "\(tensor.name)")
        }
    }

    /// The rescaled head llama.cpp needs is checked against the embedding scaled independently:
    /// an unscaled copy (what a file without the factor would compute) is caught by name.
    @Test func aWrongTiedHeadIsCaught() throws {
        let good = temporary.path("good.gguf")
        _ = try VerifiedConversion.run(.init(source: Fixtures.sample, destination: good, tokenizer: tokenizer))
        let broken = try rewrite(
            good, as: "unscaled-head.gguf",
            replace: { tensor, checkpoint in
                tensor.name == "output.weight"
                    ? checkpoint.tensor(named: "token_embd.weight")?.renamed(tensor.name) : nil
            })
        let report = try Parity.check(broken, against: try AnalyzedCheckpoint(opening: Fixtures.sample))
        #expect(!report.passed)
        #expect(report.tensors.tensors.filter { !$0.passed }.map(\.name) == ["output.weight"])
    }

    /// One int8 value of a Q8_0 block two steps off (an error of 1.5 to 2.5 steps, where
    /// rounding allows about 0.56) fails its per-block bound, and the block is named: the
    /// comparison is not blinded by quantization noise.
    @Test func aQ8_0ValueTwoStepsOffIsCaught() throws {
        let good = temporary.path("q8.gguf")
        _ = try VerifiedConversion.run(
            .init(source: Fixtures.sample, destination: good, dtype: .q8_0, tokenizer: tokenizer))
        let name = "dec.blk.1.ffn_down.weight"
        let broken = try rewrite(
            good, as: "q8-broken.gguf",
            replace: { tensor, _ in
                guard tensor.name == name, var bytes = try? tensor.file.bytes(in: tensor.byteRange) else { return nil }
                // Value 5 of block 7, two steps towards zero (never past ±127).
                let offset = 7 * Q8_0.bytesPerBlock + 2 + 5
                let q = Int8(bitPattern: bytes[offset])
                bytes[offset] = UInt8(bitPattern: q >= 0 ? q - 2 : q + 2)
                return try? Self.inMemory(tensor.spec, bytes)
            })
        let report = try Parity.check(broken, against: try AnalyzedCheckpoint(opening: Fixtures.sample))
        #expect(!report.tensors.passed)
        let failed = try #require(report.tensors.tensors.first { !$0.passed })
        #expect(failed.name == name)
        #expect(failed.firstMismatch.map { $0 / Q8_0.blockSize } == 7)
    }

    // MARK: Refusals

    /// The library's error names the file to give; the CLI adds the flag (GGUFCLITests).
    @Test func noTokenizerIsAnErrorAndWritesNothing() throws {
        let output = temporary.path("no-tokenizer.gguf")
        #expect(throws: ConvertError.missingTokenizer(directory: Fixtures.sample.path)) {
            try VerifiedConversion.run(.init(source: Fixtures.sample, destination: output))
        }
        #expect(temporary.contents().isEmpty)
    }

    @Test func aKeyThatContradictsTheTensorsIsNamed() throws {
        let broken = try rewrite(
            Fixtures.url("gguf_t5/converter_f32.gguf"), as: "wrong-ff.gguf",
            metadata: { entries in
                entries = entries.map { $0.key == GGUFT5Metadata.Key.feedForwardLength ? ($0.key, .uint32(999)) : $0 }
            })
        #expect(
            throws: ConvertError.metadataMismatch(
                path: broken.checkpoint.location.path, key: GGUFT5Metadata.Key.feedForwardLength, declared: "999",
                tensors: "256")
        ) {
            try broken.t5.get()
        }
    }

    @Test func anEncoderOnlyFileIsRefusedWithTheReason() throws {
        let encoderOnly = try rewrite(
            Fixtures.url("gguf_t5/converter_f32.gguf"), as: "t5encoder.gguf",
            metadata: { entries in
                entries = entries.map {
                    $0.key == GGUFT5Metadata.Key.architecture ? ($0.key, .string("t5encoder")) : $0
                }
            })
        guard case let .failure(.unsupportedVariant(_, variant, _)) = encoderOnly.t5 else {
            Issue.record("expected an unsupported variant, got \(encoderOnly.t5)")
            return
        }
        #expect(variant.contains("t5encoder"))
    }

    @Test func whatLlamaCppCannotRunIsRefused() throws {
        // Another relative-attention maximum distance: llama.cpp hard-codes 128.
        let far = temporary.path("far")
        try FileManager.default.copyItem(at: Fixtures.sample, to: far)
        let config = far.appendingPathComponent("config.json")
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(
                of: "\"relative_attention_max_distance\": 128", with: "\"relative_attention_max_distance\": 64")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let requests: [(String, ConversionPlan.Request)] = [
            ("max distance", .init(source: far, destination: temporary.path("a.gguf"), tokenizer: tokenizer)),
            (
                "untied input embeddings",
                .init(
                    source: Fixtures.url("t5_untied_embeddings"), destination: temporary.path("b.gguf"),
                    tokenizer: tokenizer)
            ),
            (
                "sharded",
                .init(
                    source: Fixtures.sample, destination: temporary.path("c"), shardSize: 1 << 20,
                    format: .gguf, tokenizer: tokenizer)
            ),
            (
                "compressed",
                .init(
                    source: Fixtures.sample, destination: temporary.path("d.gguf"), compress: true,
                    tokenizer: tokenizer)
            ),
            (
                "q8_0 outside GGUF",
                .init(source: Fixtures.sample, destination: temporary.path("e.safetensors"), dtype: .q8_0)
            ),
        ]
        for (what, request) in requests {
            #expect(throws: ConvertError.self, "\(what)") { try VerifiedConversion.run(request) }
        }
        #expect(temporary.contents() == ["far"])
    }

    // MARK: Helpers

    /// `url` rewritten with `metadata` edited and the tensors `replace` returns (others kept).
    private func rewrite(
        _ url: URL, as name: String,
        metadata edit: (inout [(key: String, value: GGUFValue)]) -> Void = { _ in },
        replace: (TensorRef, Checkpoint) -> (any TensorByteSource)? = { _, _ in nil }
    ) throws -> AnalyzedCheckpoint {
        let (file, checkpoint) = try GGUFReader.read(url)
        var entries = file.metadata
        edit(&entries)
        let output = temporary.path(name)
        try GGUFWriter.write(
            checkpoint.tensors.map { replace($0, checkpoint) ?? $0 }, metadata: entries, to: output.path)
        return try AnalyzedCheckpoint(opening: output)
    }

    /// A tensor whose bytes are `bytes`, held in anonymous memory.
    private static func inMemory(_ spec: TensorSpec, _ bytes: [UInt8]) throws -> TensorRef {
        let file = try AnonymousStorage(name: spec.name, byteCount: bytes.count) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: $0) }
        }
        return TensorRef(spec: spec, file: file, fileOffset: 0)
    }
}
