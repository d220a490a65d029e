import ArgumentParser
import Convert
import Formats
import Foundation
import Verify

/// `zoo verify A [B]`: checksums of one checkpoint, or parity of two.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a checkpoint's checksums, or the parity of a converted checkpoint with its source.",
        discussion: """
            With one checkpoint: its SHA256SUMS manifest if present, the checksums its format stores \
            (zip CRC-32), and that its forward pass gives finite logits. With two: every tensor of B \
            against A (bit-identical where no cast happened, within the cast's rounding otherwise), \
            then both run on the same probe batch and their logits compared. Exit 0 only if all pass.
            """)

    @Argument(help: "The checkpoint (the source, when B is given).")
    var a: String

    @Argument(help: "A converted checkpoint to compare with A.")
    var b: String?

    @OptionGroup var output: JSONOutput
    var json: Bool { output.json }

    func run() throws {
        guard let b else { return try verifyOne() }
        let source = try AnalyzedCheckpoint(opening: URL(fileURLWithPath: a))
        let converted = try AnalyzedCheckpoint(opening: URL(fileURLWithPath: b))
        let report = ParityJSON(try Parity.check(converted, against: source))
        if json {
            try printJSON(report)
        } else {
            print("\(b) against \(a)")
            report.lines.forEach { print($0) }
        }
        if !report.passed { throw ExitCode.failure }
    }

    private func verifyOne() throws {
        let url = URL(fileURLWithPath: a)
        // Opening checks every checksum the format stores (zip CRC-32s) before returning.
        let analyzed = try AnalyzedCheckpoint(opening: url, checksums: .verifyOnOpen)
        var problems: [String] = []
        let unverified = analyzed.checkpoint.unverified
        var lines = [
            "\(a): \(analyzed.checkpoint.format.displayName), \(analyzed.checkpoint.tensors.count) tensors, "
                + "stored checksums verified"
                + (unverified.isEmpty
                    ? ""
                    : "; \(unverified.count) members have none stored (unverified): \(unverified.joined(separator: ", "))")
        ]
        let manifestSummary: String
        if let manifest = ChecksumManifest.manifest(for: url) {
            let entries = try ChecksumManifest.check(manifest)
            let bad = entries.filter { !$0.passed }
            manifestSummary =
                "\(manifest.lastPathComponent): \(entries.count - bad.count) of \(entries.count) files match"
            problems += bad.map { "\($0.path): SHA-256 \($0.actual ?? "unreadable") does not match \($0.expected)" }
        } else {
            // Say so: without a manifest the files' bytes are checked only as far as the format's own CRCs go.
            manifestSummary = "no SHA256SUMS or .sha256 manifest: file SHA-256s not checked (zoo checksum writes one)"
        }
        lines.append("  " + manifestSummary)
        if case let .success(model) = analyzed.t5 {
            let output = try T5ForwardPass(checkpoint: analyzed.checkpoint, config: model.config)
                .run(Parity.probeBatch(vocabularySize: model.config.vocabSize))
            let finite = output.logits.allSatisfy(\.isFinite)
            lines.append("  forward pass on the probe batch: \(finite ? "finite logits" : "NON-FINITE logits")")
            if !finite { problems.append("the forward pass gives non-finite logits") }
        }
        if json {
            try printJSON([
                "passed": problems.isEmpty ? "true" : "false", "problems": problems.joined(separator: "; "),
                "unverified": unverified.joined(separator: ", "), "manifest": manifestSummary,
            ])
        } else {
            lines.forEach { print($0) }
            problems.forEach { print("  problem: \($0)") }
            print(problems.isEmpty ? "  verify: passed" : "  verify: FAILED")
        }
        if !problems.isEmpty { throw ExitCode.failure }
    }
}
