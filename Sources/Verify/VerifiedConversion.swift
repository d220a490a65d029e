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

    /// Plans and runs `request`.
    ///
    /// - Parameters:
    ///   - verify: `false` skips the parity check (the manifest is written all the same).
    ///   - progress: called after each tensor with (bytes written, total bytes).
    ///   - onWritten: called once the output is complete, before it is verified.
    /// - Throws: `ParityFailure` when the output does not match its source (nothing reaches the
    ///   destination), `ConvertError.sourceChanged` when a source file changed meanwhile, and the
    ///   planning, reading and writing errors of the conversion.
    public static func run(
        _ request: ConversionPlan.Request, verify: Bool = true, progress: Converter.Progress? = nil,
        onWritten: (() -> Void)? = nil
    ) throws -> Report {
        var clock = PhaseClock()
        let plan = try ConversionPlan(request)
        clock.lap("plan")
        var parity: ParityReport?
        var manifest: URL?
        // The source's forward pass does not depend on the output: it runs on the second core
        // while the conversion streams (the source is in the page cache anyway).
        let sourcePass = ConcurrentResults<Result<T5ForwardPass.Output, any Error>?>(count: 1)
        let sourcePassDone = DispatchGroup()
        if verify {
            let source = plan.source
            DispatchQueue.global().async(group: sourcePassDone) { sourcePass.store(0, Parity.sourcePass(source)) }
        }
        let conversion = try Converter.run(plan, progress: progress) { staged in
            clock.lap("write")
            onWritten?()
            manifest =
                plan.writesDirectory
                ? staged.destination.appendingPathComponent(ChecksumManifest.fileName)
                : ChecksumManifest.sidecar(of: staged.destination)
            // The manifest hashes the output's bytes while the parity check reads them and the
            // source's: independent work, side by side on two cores.
            let convertedOutput = staged.staging
            var jobs: [@Sendable () -> VerificationJob] = [
                { .manifest(Result { try ChecksumManifest.writeStaged(for: staged) }) }
            ]
            if verify {
                jobs.append {
                    .parity(
                        Result {
                            try Parity.check(
                                try AnalyzedCheckpoint(opening: convertedOutput), against: plan.source,
                                sourcePass: {
                                    // Waited for only when its logits are compared: until then
                                    // the pass shares the cores with the check.
                                    sourcePassDone.wait()
                                    return sourcePass.values()[0]
                                })
                        })
                }
            }
            let results = SideBySide.run(jobs)
            clock.lap(verify ? "manifest+parity" : "manifest")
            guard case let .manifest(sidecars) = results[0] else { preconditionFailure("job 0 is the manifest") }
            if results.count == 2, case let .parity(result) = results[1] {
                let report = try result.get()
                parity = report
                guard report.passed else { throw ParityFailure(destination: staged.destination, report: report) }
            }
            return try sidecars.get()
        }
        clock.lap("commit")
        guard let manifest else { preconditionFailure("the conversion committed without staging its manifest") }
        return Report(plan: plan, conversion: conversion, manifest: manifest, parity: parity, timings: clock.laps)
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
