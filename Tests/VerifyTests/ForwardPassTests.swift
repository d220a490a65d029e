import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats
@testable import Verify

/// The reference forward pass against transformers' own `T5ForConditionalGeneration` (fp32),
/// on outputs the fixture script recorded (`Tests/Fixtures/forward/`).
@Suite struct ForwardPassTests {
    static let cases: [(name: String, model: String)] = [
        ("sample_single", "Sources/zoo/Sample/t5-efficient-sample"),
        ("sample_padded", "Sources/zoo/Sample/t5-efficient-sample"),
        ("sample_long", "Sources/zoo/Sample/t5-efficient-sample"),
        ("gated_untied_padded", "Tests/Fixtures/t5_gated_untied"),
        // transformers 5's untied layout: shared, both input embeddings and the head all differ.
        ("untied_embeddings_padded", "Tests/Fixtures/t5_untied_embeddings"),
    ]

    @Test(arguments: cases)
    func agreesWithTransformers(_ fixture: (name: String, model: String)) throws {
        let reference = try SafetensorsReader.open(Fixtures.url("forward/\(fixture.name).safetensors"))
        let model = try AnalyzedCheckpoint(opening: Fixtures.repository.appendingPathComponent(fixture.model))
        let config = try model.t5.get().config
        let batch = T5ForwardPass.Batch(
            inputIDs: try Self.integers(reference, "input_ids"),
            attentionMask: try Self.integers(reference, "attention_mask"),
            decoderInputIDs: try Self.integers(reference, "decoder_input_ids"),
            decoderAttentionMask: try Self.integers(reference, "decoder_attention_mask"))
        let output = try T5ForwardPass(checkpoint: model.checkpoint, config: config).run(batch)

        // allclose with atol 1e-4, rtol 0, as the issue asks; the largest error is reported either way.
        for (name, values) in [("encoder_last_hidden_state", output.encoderLastHiddenState), ("logits", output.logits)]
        {
            let expected = try Self.floats(reference, name)
            #expect(values.count == expected.count, "\(name) size")
            let errors = zip(values, expected).map { abs(Double($0) - Double($1)) }
            let worst = errors.max() ?? .infinity
            #expect(
                worst <= 1e-4,
                "\(fixture.name) \(name): max abs error \(worst) at index \(errors.firstIndex(of: worst) ?? -1)")
        }
    }

    @Test func fp16ModeReproducesTransformersFP16Overflow() throws {
        // The model's encoder FFN outputs exceed 65504: transformers run fully in fp16 (`.half()`)
        // overflows there, clamps, and ends far from its fp32 logits. zoo's fp16 mode must too.
        let fp32 = try SafetensorsReader.open(Fixtures.url("forward/overflow_fp16_fp32.safetensors"))
        let half = try SafetensorsReader.open(Fixtures.url("forward/overflow_fp16_half.safetensors"))
        let model = try AnalyzedCheckpoint(opening: Fixtures.url("overflow_fp16"))
        let batch = T5ForwardPass.Batch(
            inputIDs: try Self.integers(fp32, "input_ids"),
            decoderInputIDs: try Self.integers(fp32, "decoder_input_ids"))
        let output = try T5ForwardPass(
            checkpoint: model.checkpoint, config: try model.t5.get().config, precision: .fp16
        ).run(batch)
        #expect(output.overflowedActivations > 0)
        #expect(output.firstOverflow == "encoder.block.0.layer.1.DenseReluDense.wo.weight")
        let reference = try Self.halfFloats(half, "logits_model_half")
        let exact = try Self.floats(fp32, "logits")
        let fromHalf = zip(output.logits, reference).map { abs($0 - $1) }.max() ?? .infinity
        let fromFP32 = zip(output.logits, exact).map { abs($0 - $1) }.max() ?? 0
        #expect(fromHalf < 0.02, "within fp16 rounding of transformers' fp16 run: \(fromHalf)")
        #expect(fromFP32 > 0.2, "as far from fp32 as transformers' fp16 run: \(fromFP32)")
    }

    @Test func bucketsMatchTransformersForEveryDistance() throws {
        let reference = try SafetensorsReader.open(Fixtures.url("forward/relative_position_buckets.safetensors"))
        let positions = try Self.integers(reference, "relative_position").flatMap { $0 }
        for (name, bidirectional) in [("bidirectional", true), ("causal", false)] {
            let expected = try Self.integers(reference, name).flatMap { $0 }
            let computed = positions.map {
                RelativePosition.bucket($0, bidirectional: bidirectional, buckets: 32, maxDistance: 128)
            }
            #expect(computed == expected, "\(name)")
        }
    }

    @Test func refusesRaggedAndOutOfVocabularyInput() throws {
        let model = try AnalyzedCheckpoint(opening: Fixtures.sample)
        let pass = T5ForwardPass(checkpoint: model.checkpoint, config: try model.t5.get().config)
        #expect(throws: VerifyError.self) {
            try pass.run(.init(inputIDs: [[1, 2], [3]], decoderInputIDs: [[0], [0]]))
        }
        #expect(throws: VerifyError.self) { try pass.run(.init(inputIDs: [[5000]], decoderInputIDs: [[0]])) }
    }

    @Test func passesAreBitIdenticalWhicheverThreadMultipliesABlock() throws {
        // The prefetching thread multiplies the blocks it reads ahead when its buffers are full;
        // which blocks it takes varies from run to run, and must change nothing.
        let model = try AnalyzedCheckpoint(opening: Fixtures.url("t5_gated_untied"))
        let pass = T5ForwardPass(checkpoint: model.checkpoint, config: try model.t5.get().config)
        let batch = Parity.probeBatch(vocabularySize: try model.t5.get().config.vocabSize)
        let first = try pass.run(batch)
        for _ in 0..<8 {
            let again = try pass.run(batch)
            #expect(again.logits == first.logits && again.encoderLastHiddenState == first.encoderLastHiddenState)
        }
    }

    @Test func weightsCutShortWhileThePassRunsAreAnErrorNamingTheFile() throws {
        // The pass reads its weights with `pread` as it goes (on its prefetching thread too): a
        // file truncated after it was opened must come back as the reader's error, not a crash.
        let temporary = TemporaryDirectory()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: Fixtures.sample.appendingPathComponent(name), to: temporary.path(name))
        }
        let model = try AnalyzedCheckpoint(opening: temporary.url)
        let file = temporary.path("model.safetensors")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        let pass = T5ForwardPass(checkpoint: model.checkpoint, config: try model.t5.get().config)
        #expect {
            try pass.run(.init(inputIDs: [[5, 6, 7]], decoderInputIDs: [[0, 5]]))
        } throws: { error in
            guard case let .truncatedWhileReading(path, offset) = error as? CheckpointError else { return false }
            return path == file.path && offset >= size / 2
        }
    }

    @Test func openBLASRunsKernelsThisCPUSupports() throws {
        // Debian's OpenBLAS 0.3.21 gives a CPU newer than its table (an Emerald Rapids Xeon) its
        // SSE3 "Prescott" kernels; `BLAS.prepare` must have replaced them wherever AVX2 is there.
        BLAS.prepare()
        let flags =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? []
        guard let kernels = BLAS.kernels, flags.contains("avx2"), flags.contains("fma"),
            ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil
        else { return }
        #expect(kernels.lowercased() != "prescott", "OpenBLAS kernels \(kernels) on a CPU with AVX2")
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") {
            #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(kernels.lowercased()), "\(kernels)")
        }
    }

    /// Every path `Matrix.multiply` takes (OpenBLAS's small-matrix kernel in slices, where the
    /// kernels have one, and the packing kernels) gives the value a direct computation in `Double`
    /// gives, for a weight stored `[out, in]` (a block of output columns, written and nothing
    /// else) and one stored `[in, out]` (a block of inputs, added into every output column).
    @Test(arguments: [1, 7, 12, 32, 40, 41, 64])
    func blockProductsEqualADirectComputation(rows: Int) throws {
        BLAS.prepare()
        for (inputs, outputs, block) in [(32, 100, 0..<32), (128, 1024, 30..<128), (2816, 128, 5..<77)] {
            let input = (0..<(rows * inputs)).map { Float(($0 * 37) % 101) / 50 - 1 }
            for transposed in [false, true] {
                // weight(output, input): the stored value, [out, in] or [in, out].
                let stored = (0..<(outputs * inputs)).map { Float(($0 * 53) % 97) / 48 - 1 }
                let weight = { (o: Int, i: Int) in transposed ? stored[i * outputs + o] : stored[o * inputs + i] }
                let storedColumns = transposed ? outputs : inputs
                let weightBlock = transposed ? block : (block.lowerBound * 8)..<min(block.upperBound * 8, outputs)
                let blockRows = Array(
                    stored[(weightBlock.lowerBound * storedColumns)..<(weightBlock.upperBound * storedColumns)])
                var output = [Float](repeating: transposed ? 0 : .nan, count: rows * outputs)
                input.withUnsafeBufferPointer { x in
                    blockRows.withUnsafeBufferPointer { w in
                        output.withUnsafeMutableBufferPointer { y in
                            let view = WeightView(
                                rows: weightBlock.count, columns: storedColumns, transposed: transposed, values: w)
                            Matrix.multiply(
                                x, rows: rows, columns: inputs, view, block: weightBlock, into: y, outputs: outputs)
                        }
                    }
                }
                var worst = 0.0
                for row in 0..<rows {
                    for feature in 0..<outputs {
                        let value = output[row * outputs + feature]
                        guard transposed || weightBlock.contains(feature) else {
                            #expect(value.isNaN, "column \(feature) outside block \(weightBlock) was written")
                            continue
                        }
                        let summed = transposed ? weightBlock : 0..<inputs
                        let terms = summed.map { Double(input[row * inputs + $0]) * Double(weight(feature, $0)) }
                        // Relative to the sum of |terms|, which bounds the error of any summation order.
                        let error = abs(Double(value) - terms.reduce(0, +))
                        let relative = error / max(terms.reduce(0) { $0 + abs($1) }, 1)
                        worst = relative.isNaN ? .infinity : max(worst, relative)  // a column left unwritten: NaN
                    }
                }
                // fp32 sums of at most 2816 terms: a few ulps of the largest partial sum at most.
                #expect(worst <= 1e-6, "\(rows)x\(inputs) · \(weightBlock) (transposed \(transposed)): \(worst)")
            }
        }
        // The slices OpenBLAS 0.3.21 takes to its small-matrix kernel: rows * slice * inputs
        // <= 10^6, and rows * slice <= 1200 for a weight it reads transposed.
        let expected: [Int: Int] = [1: 1200, 7: 171, 12: 100, 32: 37, 40: 30]
        let small = BLAS.hasSmallMatrixKernels
        #expect(Matrix.smallKernelSlice(rows: rows, inputs: 128, transposed: false) == (small ? expected[rows] : nil))
        #expect(
            Matrix.smallKernelSlice(rows: rows, inputs: 2816, transposed: false)
                == (small ? expected[rows].map { min($0, 355 / rows) } : nil))
        #expect(
            Matrix.smallKernelSlice(rows: rows, inputs: 128, transposed: true)
                == (small && rows <= 40 ? 7812 / rows : nil))
    }

    /// An I64 tensor as rows of Ints (a 1-D tensor is one row).
    static func integers(_ checkpoint: Checkpoint, _ name: String) throws -> [[Int]] {
        let tensor = try #require(checkpoint.tensor(named: name), "no \(name)")
        let columns = tensor.shape.last ?? 1
        let values = tensor.withUnsafeBytes { bytes in
            (0..<tensor.spec.elementCount).map { Int(bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        return stride(from: 0, to: values.count, by: max(columns, 1)).map {
            Array(values[$0..<min($0 + columns, values.count)])
        }
    }

    static func halfFloats(_ checkpoint: Checkpoint, _ name: String) throws -> [Float] {
        let tensor = try #require(checkpoint.tensor(named: name), "no \(name)")
        return tensor.withUnsafeBytes { bytes in
            (0..<tensor.spec.elementCount).map {
                Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))
            }
        }
    }

    static func floats(_ checkpoint: Checkpoint, _ name: String) throws -> [Float] {
        let tensor = try #require(checkpoint.tensor(named: name), "no \(name)")
        return tensor.withUnsafeBytes { bytes in
            (0..<tensor.spec.elementCount).map { bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
    }
}
