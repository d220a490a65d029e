import Convert
import Dispatch
import Formats
import Foundation

/// A conversion that proves itself before anyone sees it: plan, convert into the staged output,
/// write the manifest into it, check parity against the source, and only then rename it into place.
///
/// `zoo convert`, `zoo demo` and `zoo pull --format` all run this one operation, so none of them
/// can commit an output the others would have refused.
public enum VerifiedConversion {
    /// What a verified conversion did.
    public struct Report: Sendable {
        public let plan: ConversionPlan
        public let conversion: ConversionReport
        /// The manifest staged and committed with the output: `SHA256SUMS` inside a directory, or
        /// the `NAME.sha256` sidecar beside a single file.
        public let manifest: URL
        /// The parity check of the output against the source; `nil` only when it was skipped.
        public let parity: ParityReport?
        /// Wall-clock seconds of each phase, in order: `plan`, `write`, `manifest+parity` (or
        /// `manifest` unverified; the two run side by side), `commit`.
        public let timings: [(phase: String, seconds: Double)]
    }

    /// Plans and runs `request`: plan -> write -> (manifest || parity) -> commit.
    ///
    /// - Parameters:
    ///   - verify: `false` skips the parity check (the manifest is written all the same).
    ///   - progress: called after each tensor with (bytes written, total bytes).
    ///   - onWritten: called once the output is complete, before it is verified.
    /// - Throws: `ParityFailure` when the output does not match its source (nothing reaches the
    ///   destination), `ConvertError.sourceChanged` when a source file changed meanwhile, and the
    ///   planning, reading and writing errors of the conversion. No job it started is still running
    ///   when it returns or throws.
    public static func run(
        _ request: ConversionPlan.Request, verify: Bool = true, progress: Converter.Progress? = nil,
        onWritten: (() -> Void)? = nil
    ) throws -> Report {
        var clock = PhaseClock()
        let plan = try ConversionPlan(request)
        clock.lap("plan")
        // The source's forward pass does not depend on the output: it runs on the second core
        // while the conversion streams (the source is in the page cache anyway). Cancelled and
        // joined on every way out.
        let source = plan.source
        let sourcePass =
            verify
            ? BackgroundJob(name: "zoo-source-pass") { cancellation in
                Parity.sourcePass(source, cancellation: cancellation)
            }
            : nil
        defer { sourcePass?.cancelAndWait() }

        let staged = try Converter.stage(plan)
        do {
            let conversion = try Converter.write(plan, into: staged, progress: progress)
            clock.lap("write")
            onWritten?()
            let (sidecars, parity) = try manifestAndParity(
                of: staged, written: conversion.digests, plan: plan, sourcePass: sourcePass)
            clock.lap(verify ? "manifest+parity" : "manifest")
            try Converter.checkSourceUnchanged(plan)
            try staged.commit(sidecars: sidecars)
            clock.lap("commit")
            let manifest =
                plan.writesDirectory
                ? staged.destination.appendingPathComponent(ChecksumManifest.fileName)
                : ChecksumManifest.sidecar(of: staged.destination)
            return Report(plan: plan, conversion: conversion, manifest: manifest, parity: parity, timings: clock.laps)
        } catch {
            staged.discard()
            throw error
        }
    }

    /// The manifest staged with the output (from the digests taken as it was `written`), and (when `sourcePass` is running) the parity check of
    /// the staged output against the source: independent work, side by side on two cores.
    ///
    /// - Returns: the sidecar suffixes to commit, and the parity report.
    /// - Throws: `ParityFailure` for an output that does not compute what its source computes.
    private static func manifestAndParity(
        of staged: StagedOutput, written: WrittenFileDigests, plan: ConversionPlan,
        sourcePass: BackgroundJob<Result<T5ForwardPass.Output, any Error>?>?
    ) throws -> (sidecars: [String], parity: ParityReport?) {
        let output = staged.staging
        let source = plan.source
        var jobs: [@Sendable () -> VerificationJob] = [
            { .manifest(Result { try ChecksumManifest.writeStaged(for: staged, written: written) }) }
        ]
        if let sourcePass {
            jobs.append {
                .parity(
                    Result {
                        // The source's pass is waited for only when its logits are compared: until
                        // then it shares the cores with the check.
                        try Parity.check(
                            try AnalyzedCheckpoint(opening: output), against: source, sourcePass: { sourcePass.wait() })
                    })
            }
        }
        let results = SideBySide.run(jobs)
        guard case let .manifest(sidecars) = results[0] else { preconditionFailure("job 0 is the manifest") }
        var parity: ParityReport?
        if results.count == 2, case let .parity(result) = results[1] {
            let report = try result.get()
            guard report.passed else { throw ParityFailure(destination: staged.destination, report: report) }
            parity = report
        }
        return (try sidecars.get(), parity)
    }
}

/// What one of the concurrent verification jobs produced.
private enum VerificationJob: Sendable {
    case manifest(Result<[String], any Error>)
    case parity(Result<ParityReport, any Error>)
}

/// A converted checkpoint that does not compute what its source computes; it was discarded.
public struct ParityFailure: Error, CustomStringConvertible, Sendable {
    public let destination: URL
    public let report: ParityReport

    public var description: String {
        "\(destination.path): the converted checkpoint failed its parity check; nothing was written"
    }
}

/// Wall-clock laps, for the phase timings a report carries.
struct PhaseClock {
    private(set) var laps: [(phase: String, seconds: Double)] = []
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap(_ phase: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        laps.append((phase, Double(now - last) / 1e9))
        last = now
    }
}
