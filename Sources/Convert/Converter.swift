import Formats
import Foundation

/// What a conversion wrote, and what the casts did.
public struct ConversionReport: Sendable {
    public let destination: URL
    /// Files written, relative to `destination` for directories (the file itself otherwise).
    public let files: [String]
    public let tensorCount: Int
    public let tensorBytes: Int
    /// Cast statistics of every cast tensor, in output order.
    public let casts: [(tensor: String, from: DType, to: DType, statistics: CastStatistics)]
    public let foldedAliases: [String]
    public let wroteConfig: Bool
    /// The source directory's files carried into the output, byte for byte (see `Companions`).
    public let companions: [String]

    /// Totals over all cast tensors.
    public var castTotals: CastStatistics {
        casts.reduce(into: CastStatistics()) { $0 += $1.statistics }
    }
}

/// Executes a `ConversionPlan`: one tensor at a time from the mapped source, cast in chunks,
/// into a staging location that is renamed into place only when every file is complete.
public enum Converter {
    /// Called after each tensor with (bytes written so far, total bytes).
    public typealias Progress = (Int, Int) -> Void

    /// Writes the plan's output.
    ///
    /// - Throws: I/O errors; on any error nothing is left at the destination or the staging path.
    ///
    /// - Parameter beforeCommit: runs on the complete output at its staging location before it
    ///   is renamed into place, and returns the suffixes of the sidecars it staged beside it
    ///   (`StagedOutput.sidecarStaging`), which are committed with it; throwing keeps the output
    ///   from ever reaching the destination. `zoo convert` writes the manifest and verifies here.
    public static func run(
        _ plan: ConversionPlan, progress: Progress? = nil, beforeCommit: ((StagedOutput) throws -> [String])? = nil
    ) throws -> ConversionReport {
        let staged = try StagedOutput(
            destination: plan.request.destination, isDirectory: plan.writesDirectory, force: plan.request.force)
        do {
            let report = try write(plan, into: staged, progress: progress)
            let sidecars = try beforeCommit?(staged) ?? []
            // Last, after any verification has read the source again: an output made of a file
            // that changed underneath it is neither the old model nor the new one.
            if let (path, change) = plan.source.sourceChange() {
                throw ConvertError.sourceChanged(path: path, change: change)
            }
            try staged.commit(sidecars: sidecars)
            return report
        } catch {
            staged.discard()
            throw error
        }
    }

    /// The weights through the format's `WeightsWriter`, then what every model directory gets:
    /// the `operative_config.gin` a TensorFlow output writes, `config.json`, the source's companions.
    private static func write(_ plan: ConversionPlan, into staged: StagedOutput, progress: Progress?) throws
        -> ConversionReport
    {
        let total = plan.outputTensorBytes
        let counter = ProgressCounter(total: total, progress: progress)
        let emitted = plan.tensors.map { $0.emitted() }
        var files = try plan.format.weightsWriter.write(
            counter.reporting(emitted.map(\.bytes)), of: plan, into: staged)
        if plan.writesDirectory {
            if let gin = plan.operativeConfig {
                try writeTextFile(gin, to: staged.staging.appendingPathComponent(MeshTFLayout.ginFileName))
                files.append(MeshTFLayout.ginFileName)
            }
            if let config = plan.configText {
                try writeTextFile(config, to: staged.staging.appendingPathComponent("config.json"))
                files.append("config.json")
            }
            try plan.companions.copy(into: staged.staging)
        }
        return ConversionReport(
            destination: staged.destination, files: files, tensorCount: plan.tensors.count, tensorBytes: total,
            casts: castStatistics(emitted), foldedAliases: plan.foldedAliases, wroteConfig: plan.writesModelConfig,
            companions: plan.companions.files)
    }

    /// What each cast did, for the tensors that cast (read once they have been emitted).
    private static func castStatistics(_ emitted: [EmittedTensor]) -> [(String, DType, DType, CastStatistics)] {
        emitted.compactMap { tensor in
            tensor.castStatistics.map { statistics in
                (tensor.bytes.outputSpec.name, tensor.sourceDType, tensor.bytes.outputSpec.dtype, statistics())
            }
        }
    }
}

/// Adds up the bytes of the tensors emitted so far, for `Progress`.
private final class ProgressCounter {
    private let total: Int
    private let progress: Converter.Progress?
    private var written = 0

    init(total: Int, progress: Converter.Progress?) {
        self.total = total
        self.progress = progress
    }

    /// `sources`, each reporting its bytes here once emitted.
    func reporting(_ sources: [any TensorByteSource]) -> [any TensorByteSource] {
        sources.map { source in
            ProgressReporting(base: source) { [self] bytes in
                written += bytes
                progress?(written, total)
            }
        }
    }
}

/// Passes a tensor through and reports its size once it has been emitted.
private struct ProgressReporting: TensorByteSource {
    let base: any TensorByteSource
    let onDone: (Int) -> Void

    var outputSpec: TensorSpec { base.outputSpec }

    func emit(into sink: inout some ByteSink) throws {
        try base.emit(into: &sink)
        onDone(base.outputSpec.byteCount)
    }
}
