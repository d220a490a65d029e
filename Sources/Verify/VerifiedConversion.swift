import Convert
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
        let plan = try ConversionPlan(request)
        var parity: ParityReport?
        var manifest: URL?
        let conversion = try Converter.run(plan, progress: progress) { staged in
            onWritten?()
            let sidecars = try ChecksumManifest.writeStaged(for: staged)
            manifest =
                plan.writesDirectory
                ? staged.destination.appendingPathComponent(ChecksumManifest.fileName)
                : URL(fileURLWithPath: staged.destination.path + ChecksumManifest.sidecarSuffix)
            guard verify else { return sidecars }
            let output = try AnalyzedCheckpoint(opening: staged.staging)
            let report = try Parity.check(output, against: plan.source)
            parity = report
            guard report.passed else { throw ParityFailure(destination: staged.destination, report: report) }
            return sidecars
        }
        guard let manifest else { preconditionFailure("the conversion committed without staging its manifest") }
        return Report(plan: plan, conversion: conversion, manifest: manifest, parity: parity)
    }
}

/// A converted checkpoint that does not compute what its source computes; it was discarded.
public struct ParityFailure: Error, CustomStringConvertible, Sendable {
    public let destination: URL
    public let report: ParityReport

    public var description: String {
        "\(destination.path): the converted checkpoint failed its parity check; nothing was written"
    }
}
