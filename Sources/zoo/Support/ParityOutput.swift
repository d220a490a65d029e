// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import Convert
import Formats
import Foundation
import Verify

/// `zoo verify --json` output, and what `zoo convert` prints of its check.
struct ParityJSON: Encodable {
    struct Tensors: Encodable {
        let compared: Int
        let bit_identical: Int
        let failed: [String]
        let missing: [String]
        let extra: [String]
        let max_abs_error: Double
        let max_rel_error: Double
        /// In units in the last place of the narrower dtype: at most 0.5 for correct rounding.
        let max_ulp_error: Double
    }

    struct Logits: Encodable {
        let max_abs_error: Double
        let max_rel_error: Double
        let cosine_similarity: Double
        let top1_agreement: Double
        let finite: Bool
        /// The largest |logit| of the source, which `limit_abs_error_fraction` is a fraction of.
        let reference_scale: Double
        let limit_abs_error_fraction: Double
        let limit_cosine: Double
        let limit_top1: Double
        let passed: Bool
    }

    let passed: Bool
    let rounded_to: String?
    /// The precision the converted checkpoint ran in (fp16 for fp16 conversions).
    let precision: String
    let overflowed_activations: Int
    let first_overflow: String?
    let tensors: Tensors
    let logits: Logits?

    init(_ report: ParityReport) {
        passed = report.passed
        rounded_to = report.roundedTo?.rawValue
        precision = report.precision.rawValue
        overflowed_activations = report.overflowedActivations
        first_overflow = report.firstOverflow
        let comparison = report.tensors
        tensors = Tensors(
            compared: comparison.tensors.count, bit_identical: comparison.bitExactCount,
            failed: comparison.tensors.filter { !$0.passed }.map(\.name), missing: comparison.missing,
            extra: comparison.extra, max_abs_error: comparison.maxAbsoluteError,
            max_rel_error: comparison.maxRelativeError, max_ulp_error: comparison.maxULPError)
        logits = report.logits.map {
            Logits(
                max_abs_error: $0.maxAbsoluteError, max_rel_error: $0.maxRelativeError,
                cosine_similarity: $0.cosineSimilarity,
                top1_agreement: $0.topOneAgreement, finite: $0.finite, reference_scale: $0.referenceScale,
                limit_abs_error_fraction: $0.limits.absoluteError,
                limit_cosine: $0.limits.cosineSimilarity, limit_top1: $0.limits.topOneAgreement, passed: $0.passed)
        }
    }

    /// Human lines.
    var lines: [String] {
        var lines = [
            "  tensors: \(tensors.compared) compared, \(tensors.bit_identical) bit-identical"
                + (rounded_to.map {
                    ", rounded to \($0): max abs \(sci(tensors.max_abs_error)), max rel \(sci(tensors.max_rel_error)), "
                        + "max \(String(format: "%.2f", tensors.max_ulp_error)) ulp"
                } ?? "")
        ]
        for name in tensors.failed.prefix(5) { lines.append("    differs beyond its bound: \(name)") }
        for name in tensors.missing.prefix(5) { lines.append("    missing: \(name)") }
        for name in tensors.extra.prefix(5) { lines.append("    extra: \(name)") }
        if let logits {
            lines.append(
                "  logits on the probe batch (\(precision)): max abs \(sci(logits.max_abs_error)), max rel \(sci(logits.max_rel_error)), "
                    + "cosine \(String(format: "%.6f", logits.cosine_similarity)), top-1 agreement "
                    + "\(String(format: "%.0f%%", logits.top1_agreement * 100))\(logits.finite ? "" : ", NON-FINITE values")"
                    + (logits.passed
                        ? ""
                        : " (limits: abs \(sci(logits.limit_abs_error_fraction)) of the largest logit, "
                            + "cosine \(logits.limit_cosine), top-1 \(logits.limit_top1))"))
        }
        if overflowed_activations > 0 {
            lines.append(
                "  \(overflowed_activations) activations overflowed \(precision) when run as \(precision) inference does "
                    + "(first at \(first_overflow ?? "?")); keep this model in bf16 or fp32")
        }
        lines.append(passed ? "  parity: passed" : "  parity: FAILED")
        return lines
    }

    private func sci(_ value: Double) -> String { String(format: "%.2e", value) }
}
