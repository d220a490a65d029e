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

    /// The limits for weights rounded to `dtype` (`nil`: nothing was rounded).
    public static func forWeights(roundedTo dtype: DType?) -> ParityLimits {
        switch dtype {
        case nil: .identical
        case .f32?: ParityLimits(absoluteError: 1e-5, cosineSimilarity: 0.999_999, topOneAgreement: 1)
        case .f16?: ParityLimits(absoluteError: 5e-3, cosineSimilarity: 0.9999, topOneAgreement: 0.95)
        case .bf16?: ParityLimits(absoluteError: 4e-2, cosineSimilarity: 0.999, topOneAgreement: 0.8)
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

    /// Checks `converted` against `source`.
    ///
    /// - Throws: reading errors; a checkpoint that is T5 on one side only is reported through the
    ///   tensor comparison (names differ), not thrown.
    public static func check(_ converted: AnalyzedCheckpoint, against source: AnalyzedCheckpoint) throws -> ParityReport
    {
        let tensors = CheckpointComparison(converted.checkpoint, against: source.checkpoint)
        let rounded = narrowestRounding(tensors)
        let precision: ComputePrecision = rounded == .f16 ? .fp16 : .fp32
        var logits: LogitComparison?
        var overflow: (count: Int, first: String?) = (0, nil)
        if case let .success(sourceModel) = source.t5, case let .success(convertedModel) = converted.t5,
            sourceModel.config.vocabSize == convertedModel.config.vocabSize
        {
            let batch = probeBatch(vocabularySize: sourceModel.config.vocabSize)
            let reference = try T5ForwardPass(checkpoint: source.checkpoint, config: sourceModel.config).run(batch)
            let actual = try T5ForwardPass(
                checkpoint: converted.checkpoint, config: convertedModel.config, precision: precision
            )
            .run(batch)
            overflow = (actual.overflowedActivations, actual.firstOverflow)
            logits = LogitComparison(
                actual.logits, reference.logits, vocabularySize: reference.vocabularySize,
                limits: .forWeights(roundedTo: rounded))
        }
        return ParityReport(
            tensors: tensors, logits: logits, roundedTo: rounded, precision: precision,
            overflowedActivations: overflow.count, firstOverflow: overflow.first)
    }

    /// The narrowest dtype a tensor was cast to (by byte size), if any tensor was cast.
    private static func narrowestRounding(_ comparison: CheckpointComparison) -> DType? {
        // Narrowing casts round, and so do casts between the two 16-bit formats (bf16 -> fp16 loses
        // the small values fp16 holds only as subnormals; fp16 -> bf16 loses mantissa bits).
        comparison.tensors.filter {
            $0.expectedDType != $0.actualDType && !$0.actualDType.isBlockQuantized
                && !$0.expectedDType.isBlockQuantized && $0.actualDType.byteSize <= $0.expectedDType.byteSize
        }
        .map(\.actualDType).min { lhs, rhs in
            // bf16 keeps fewer mantissa bits than f16: the looser limits.
            lhs.byteSize != rhs.byteSize ? lhs.byteSize < rhs.byteSize : lhs == .bf16
        }
    }
}
