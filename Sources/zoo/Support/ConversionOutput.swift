// swift-format-ignore-file: AlwaysUseLowerCamelCase

// (the JSON types here spell their properties as the keys of the JSON they print)
import ArgumentParser
import Convert
import Formats

extension TargetDType: ExpressibleByArgument {}

extension OutputFormat: ExpressibleByArgument {}

/// `zoo convert --json` output.
struct ConversionJSON: Encodable {
    struct Cast: Encodable {
        let tensor: String
        let from: String
        let to: String
        let overflow_to_inf: Int
        let underflow_to_zero: Int
        let nan: Int
    }

    let source: String
    let source_format: String
    let destination: String
    let files: [String]
    let tensors: Int
    let bytes: Int
    let folded_aliases: [String]
    let wrote_config: Bool
    let casts: [Cast]
    /// Mesh-TF variables left out (optimizer slots, step counter), with the reason.
    let skipped_variables: [SkippedVariable]
    /// The source directory's files carried byte for byte (tokenizer, generation config, ...).
    let companions: [String]
    /// Entries of the source directory not carried, with the reason (the checkpoint's own files,
    /// `config.json` and manifests are not listed).
    let companions_left_out: [LeftOut]
    /// A `--to tf` output kept the source's `operative_config.gin` rather than writing one.
    let kept_operative_config: Bool
    /// The parity check of the output against the source (absent with `--no-verify`).
    let parity: ParityJSON?
    /// Wall-clock seconds of each phase: plan, write, manifest, parity (when verified), commit.
    let timings: [String: Double]

    struct LeftOut: Encodable {
        let name: String
        let reason: String
    }

    struct SkippedVariable: Encodable {
        let name: String
        let reason: String
    }

    init(
        plan: ConversionPlan, report: ConversionReport, parity: ParityJSON?, timings: [(phase: String, seconds: Double)]
    ) {
        self.parity = parity
        self.timings = Dictionary(timings.map { ($0.phase, $0.seconds) }, uniquingKeysWith: +)
        skipped_variables = (plan.source.meshTF?.skipped ?? []).map {
            SkippedVariable(name: $0.name, reason: $0.reason.rawValue)
        }
        companions = report.companions
        companions_left_out = plan.companions.leftOut.map { LeftOut(name: $0.name, reason: $0.reason.rawValue) }
        kept_operative_config = plan.keepsSourceGin
        source = plan.source.checkpoint.location.path
        source_format = plan.source.checkpoint.format.rawValue
        destination = report.destination.path
        files = report.files
        tensors = report.tensorCount
        bytes = report.tensorBytes
        folded_aliases = report.foldedAliases
        wrote_config = report.wroteConfig
        casts = report.casts.map {
            Cast(
                tensor: $0.tensor, from: $0.from.rawValue, to: $0.to.rawValue,
                overflow_to_inf: $0.statistics.overflowToInfinity,
                underflow_to_zero: $0.statistics.underflowToZero, nan: $0.statistics.nanCount)
        }
    }
}

/// Human lines describing a finished conversion.
func describe(plan: ConversionPlan, report: ConversionReport) -> [String] {
    var lines = [
        "\(plan.source.checkpoint.location.path) (\(plan.source.checkpoint.format.displayName), "
            + "\(plan.source.checkpoint.tensors.count) tensors) -> \(report.destination.path)"
    ]
    // Shards are listed by their range: `model-00001-of-00006 ... model-00006-of-00006.safetensors`.
    let shards = report.files.filter { $0.contains("-of-") }
    let others = report.files.filter { !$0.contains("-of-") }
    let listed =
        shards.count > 2
        ? ["\(shards.count) shards \(shards[0]) ... \(shards[shards.count - 1])"] + others : report.files
    lines.append(
        "  wrote \(listed.joined(separator: ", ")) (\(report.tensorCount) tensors, \(ByteSize.describe(report.tensorBytes)))"
    )
    if !report.casts.isEmpty {
        let kinds = Set(report.casts.map { "\($0.from.rawValue) -> \($0.to.rawValue)" }).sorted().joined(
            separator: ", ")
        let totals = report.castTotals
        lines.append(
            "  cast \(report.casts.count) tensors \(kinds): \(totals.overflowToInfinity) values overflowed to inf, "
                + "\(totals.underflowToZero) underflowed to zero, \(totals.nanCount) NaN")
        for cast in report.casts where cast.statistics.lostValues {
            lines.append(
                "    warning: \(cast.tensor): \(cast.statistics.overflowToInfinity) overflowed to inf, "
                    + "\(cast.statistics.underflowToZero) underflowed to zero")
        }
    }
    if !plan.source.checkpoint.skipped.isEmpty {
        lines.append(
            "  skipped \(plan.source.checkpoint.skipped.count) non-tensor entries: "
                + plan.source.checkpoint.skipped.prefix(8).joined(separator: ", "))
    }
    if let layout = plan.source.meshTF {
        lines.append("  mapped \(layout.tensors.count) Mesh-TF variables to transformers names (kernels transposed)")
        lines.append(contentsOf: describeSkipped(layout.skipped).map { "  " + $0 })
        if let gin = layout.ginURL {
            lines.append("  config from \(gin.lastPathComponent), cross-checked with the shapes")
        }
    }
    if !report.companions.isEmpty {
        lines.append(
            "  carried \(report.companions.count) file\(report.companions.count == 1 ? "" : "s") of the source "
                + "directory byte for byte: \(report.companions.joined(separator: ", "))")
    }
    if plan.keepsSourceGin {
        lines.append("  kept the source's \(MeshTFLayout.ginFileName) (checked against the tensors)")
    }
    if !plan.companions.leftOut.isEmpty {
        let left = plan.companions.leftOut.prefix(8).map { "\($0.name) (\($0.reason.rawValue))" }
        lines.append(
            "  left out \(left.joined(separator: ", "))" + (plan.companions.leftOut.count > 8 ? ", ..." : ""))
    }
    if !report.foldedAliases.isEmpty {
        lines.append("  tied: \(report.foldedAliases.joined(separator: ", ")) equal shared.weight; written once")
    }
    return lines
}

/// "skipped 109 Mesh-TF variables: 108 Adafactor optimizer slot, 1 training step counter", and the
/// first few names.
func describeSkipped(_ skipped: [MeshTFLayout.SkippedVariable]) -> [String] {
    guard !skipped.isEmpty else { return [] }
    let counts = MeshTFSkipReason.allCases.compactMap { reason -> String? in
        let count = skipped.filter { $0.reason == reason }.count
        return count == 0 ? nil : "\(count) \(reason.rawValue)"
    }
    let names = skipped.prefix(3).map(\.name).joined(separator: ", ") + (skipped.count > 3 ? ", ..." : "")
    return ["skipped \(skipped.count) Mesh-TF variables (\(counts.joined(separator: ", "))): \(names)"]
}
