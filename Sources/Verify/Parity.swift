import Convert
import Formats
import Foundation

/// How the logits of two checkpoints compare on the same probe batch.
public struct LogitComparison: Sendable {
    public let maxAbsoluteError: Double
    public let maxRelativeError: Double
    /// Cosine similarity of the two flattened logit tensors.
    public let cosineSimilarity: Double
    /// Fraction of (row, position) pairs whose highest-scoring token agrees.
    public let topOneAgreement: Double
    /// Largest |logit| of the reference, the scale `absolute` is relative to.
    public let referenceScale: Double
    public let limits: ParityLimits
    /// Whether every logit is finite in both.
    public let finite: Bool

    public var passed: Bool {
        finite && maxAbsoluteError <= limits.absoluteError * max(referenceScale, 1e-6)
            && cosineSimilarity >= limits.cosineSimilarity && topOneAgreement >= limits.topOneAgreement
    }

    /// Compares `actual` with `reference` (flattened `[rows, positions, vocab]` logits).
    public init(_ actual: [Float], _ reference: [Float], vocabularySize: Int, limits: ParityLimits) {
        self.limits = limits
        guard actual.count == reference.count else {
            // Different shapes (another vocabulary): nothing to compare element by element.
            (maxAbsoluteError, maxRelativeError, cosineSimilarity) = (.infinity, .infinity, 0)
            (topOneAgreement, referenceScale, finite) = (0, 0, false)
            return
        }
        var maxAbs = 0.0
        var maxRel = 0.0
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        var scale = 0.0
        var finite = true
        for (a, b) in zip(actual, reference) {
            let x = Double(a)
            let y = Double(b)
            guard x.isFinite, y.isFinite else {
                finite = false
                continue
            }
            let error = abs(x - y)
            maxAbs = max(maxAbs, error)
            if y != 0 { maxRel = max(maxRel, error / abs(y)) }
            dot += x * y
            normA += x * x
            normB += y * y
            scale = max(scale, abs(y))
        }
        var agreeing = 0
        let positions = reference.count / max(vocabularySize, 1)
        for position in 0..<positions {
            let range = (position * vocabularySize)..<((position + 1) * vocabularySize)
            let best = { (values: [Float]) in range.max { values[$0] < values[$1] } }
            if best(actual) == best(reference) { agreeing += 1 }
        }
        maxAbsoluteError = maxAbs
        maxRelativeError = maxRel
        // sqrt(normA * normB), not sqrt(normA) * sqrt(normB): for identical logits the first is
        // exactly normA (sqrt of a square is exact in IEEE arithmetic), so the cosine is exactly 1,
        // where the second can round below 1 and fail the `identical` limits.
        cosineSimilarity =
            normA > 0 && normB > 0 ? dot / (normA * normB).squareRoot() : (normA == normB ? 1 : 0)
        topOneAgreement = positions > 0 ? Double(agreeing) / Double(positions) : 1
        referenceScale = scale
        self.finite = finite
    }
}

/// What a conversion may change in the logits, by the narrowest dtype its weights went through.
public struct ParityLimits: Sendable, Equatable {
    /// Largest |Δlogit| as a fraction of the reference's largest |logit|.
    public let absoluteError: Double
    public let cosineSimilarity: Double
    public let topOneAgreement: Double

    /// Weights that are bit-identical give bit-identical logits.
    public static let identical = ParityLimits(absoluteError: 0, cosineSimilarity: 1, topOneAgreement: 1)

    /// The same weights in another layout (a Mesh-TF `[in, out]` kernel multiplied as it lies):
    /// the products sum in another order, so the logits agree to fp32 rounding, not bit for bit.
    public static let otherLayout = forWeights(roundedTo: .f32)

    /// The limits for weights rounded to `dtype` (`nil`: nothing was rounded).
    public static func forWeights(roundedTo dtype: DType?) -> ParityLimits {
        switch dtype {
        case nil: .identical
        case .f32?: ParityLimits(absoluteError: 1e-5, cosineSimilarity: 0.999_999, topOneAgreement: 1)
        case .f16?: ParityLimits(absoluteError: 5e-3, cosineSimilarity: 0.9999, topOneAgreement: 0.95)
        case .bf16?: ParityLimits(absoluteError: 4e-2, cosineSimilarity: 0.999, topOneAgreement: 0.8)
        // Measured on the fixture models quantized by `zoo convert --dtype q8_0` (BENCHMARKS.md,
        // "GGUF"): largest |Δlogit| 0.9% (sample) and 3.4% (gated-GELU, untied) of the largest
        // logit, cosine >= 0.9998, top-1 >= 0.92 on random tiny models whose logits nearly tie.
        case .q8_0?: ParityLimits(absoluteError: 8e-2, cosineSimilarity: 0.999, topOneAgreement: 0.8)
        default: ParityLimits(absoluteError: 0.1, cosineSimilarity: 0.99, topOneAgreement: 0.5)
        }
    }
}

/// A full parity check of a converted checkpoint against its source.
public struct ParityReport: Sendable {
    public let tensors: CheckpointComparison
    /// The forward-pass comparison, when both are T5 models.
    public let logits: LogitComparison?
    /// The narrowest float dtype any weight was rounded to on the way (`nil`: none).
    public let roundedTo: DType?
    /// The precision the converted checkpoint was run in: fp16 for fp16 conversions, so they are
    /// checked the way fp16 inference runs them; fp32 otherwise.
    public let precision: ComputePrecision
    /// Activations of the converted checkpoint that overflowed `precision`, and where the first did.
    public let overflowedActivations: Int
    public let firstOverflow: String?

    public var passed: Bool { tensors.passed && (logits?.passed ?? true) }
}

/// Compares two checkpoints tensor by tensor, then runs both on a deterministic probe batch.
public enum Parity {
    /// Two rows (the second padded), 16 encoder and 6 decoder tokens, ids from a fixed sequence.
    public static func probeBatch(vocabularySize: Int) -> T5ForwardPass.Batch {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func nextID() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return 2 + Int((state >> 33) % UInt64(max(vocabularySize - 2, 1)))
        }
        let encoder = (0..<2).map { _ in (0..<16).map { _ in nextID() } }
        let decoder = (0..<2).map { _ in [0] + (0..<5).map { _ in nextID() } }
        let encoderMask = [
            [Int](repeating: 1, count: 16), [Int](repeating: 1, count: 10) + [Int](repeating: 0, count: 6),
        ]
        let decoderMask = [
            [Int](repeating: 1, count: 6), [Int](repeating: 1, count: 4) + [Int](repeating: 0, count: 2),
        ]
        return .init(
            inputIDs: encoder, attentionMask: encoderMask, decoderInputIDs: decoder, decoderAttentionMask: decoderMask)
    }

    /// The source's forward pass on the probe batch, as `check` runs it; `nil` when the source is
    /// not a T5 model (the check then compares tensors only).
    public static func sourcePass(_ source: AnalyzedCheckpoint, cancellation: CancellationFlag? = nil) -> Result<
        T5ForwardPass.Output, any Error
    >? {
        guard case let .success(model) = source.t5 else { return nil }
        return Result {
            try T5ForwardPass(
                checkpoint: source.checkpoint, config: model.config, cores: .shared, cancellation: cancellation
            )
            .run(probeBatch(vocabularySize: model.config.vocabSize))
        }
    }

    /// Checks `converted` against `source`, each read under its own names and layout (a Mesh-TF
    /// checkpoint is compared and run as it is stored, see `T5Naming`).
    ///
    /// - Throws: reading errors; a checkpoint that is T5 on one side only is reported through the
    ///   tensor comparison (names differ), not thrown.
    /// - Parameter sourcePass: the source's forward pass on the probe batch (`sourcePass(_:)`), if
    ///   the caller runs it (a conversion does while it writes): called, on a thread of the check's
    ///   own, when the logits are to be compared, it waits for the pass and returns it. Without it
    ///   (or when it returns `nil`) the pass runs here.
    public static func check(
        _ converted: AnalyzedCheckpoint, against source: AnalyzedCheckpoint,
        sourcePass: (@Sendable () -> Result<T5ForwardPass.Output, any Error>?)? = nil
    ) throws -> ParityReport {
        let namings = (T5Naming.of(converted.checkpoint), T5Naming.of(source.checkpoint))
        let layoutsDiffer = namings.0 != namings.1
        // GGUF sides are paired weight by weight too: a zoo GGUF's tied head is no parameter.
        let byParameter = layoutsDiffer || namings.0.pairsByParameter || namings.1.pairsByParameter
        let pairing: TensorPairing
        if byParameter, let model = (try? source.t5.get()) ?? (try? converted.t5.get()) {
            // A Mesh-TF side: each checkpoint is read under its own names, weight by weight.
            pairing = TensorPairing(
                parametersOf: converted.checkpoint, against: source.checkpoint, config: model.config)
        } else {
            pairing = TensorPairing(byName: converted.checkpoint, against: source.checkpoint)
        }
        // Known from the dtypes alone, so the converted model's pass need not wait for the comparison.
        let rounded = pairing.narrowestRounding
        let precision: ComputePrecision = rounded == .f16 ? .fp16 : .fp32
        var models: (source: T5Config, converted: T5Config)?
        if case let .success(sourceModel) = source.t5, case let .success(convertedModel) = converted.t5,
            sourceModel.config.vocabSize == convertedModel.config.vocabSize
        {
            models = (sourceModel.config, convertedModel.config)
        }

        // The tensor comparison and the two forward passes read different bytes and share
        // nothing: they run side by side, each matrix product on the thread that asks for it.
        let batch = probeBatch(vocabularySize: models?.source.vocabSize ?? 1)
        let checkpoints = (source: source.checkpoint, converted: converted.checkpoint)
        var jobs: [@Sendable () -> ParityJob] = [{ .comparison(CheckpointComparison(pairing)) }]
        if let configs = models {
            jobs.append {
                .pass(
                    sourcePass?()
                        ?? Result {
                            try T5ForwardPass(checkpoint: checkpoints.source, config: configs.source, cores: .shared)
                                .run(batch)
                        })
            }
            jobs.append {
                .pass(
                    Result {
                        try T5ForwardPass(
                            checkpoint: checkpoints.converted, config: configs.converted, precision: precision,
                            cores: .shared
                        )
                        .run(batch)
                    })
            }
        }
        let results = SideBySide.run(jobs)
        guard case let .comparison(tensors) = results[0] else { preconditionFailure("job 0 is the comparison") }
        var logits: LogitComparison?
        var overflow: (count: Int, first: String?) = (0, nil)
        if results.count == 3, case let .pass(referenceResult) = results[1], case let .pass(actualResult) = results[2] {
            let reference = try referenceResult.get()
            let actual = try actualResult.get()
            overflow = (actual.overflowedActivations, actual.firstOverflow)
            logits = LogitComparison(
                actual.logits, reference.logits, vocabularySize: reference.vocabularySize,
                limits: rounded == nil && layoutsDiffer ? .otherLayout : .forWeights(roundedTo: rounded))
        }
        return ParityReport(
            tensors: tensors, logits: logits, roundedTo: rounded, precision: precision,
            overflowedActivations: overflow.count, firstOverflow: overflow.first)
    }

    /// What one of the check's concurrent jobs produced.
    private enum ParityJob: Sendable {
        case comparison(CheckpointComparison)
        case pass(Result<T5ForwardPass.Output, any Error>)
    }
}
