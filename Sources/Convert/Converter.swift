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
    /// The digests of the weight files, taken as they were written (at their staged paths): the
    /// manifest uses them instead of reading the files back.
    public let digests: WrittenFileDigests

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

    /// Writes the plan's output and renames it into place.
    ///
    /// - Throws: I/O errors, `ConvertError.sourceChanged` when a source file changed meanwhile; on
    ///   any error nothing is left at the destination or the staging path.
    public static func run(_ plan: ConversionPlan, progress: Progress? = nil) throws -> ConversionReport {
        let staged = try stage(plan)
        do {
            let report = try write(plan, into: staged, progress: progress)
            try checkSourceUnchanged(plan)
            try staged.commit()
            return report
        } catch {
            staged.discard()
            throw error
        }
    }

    /// The staging area of `plan`'s output (see `StagedOutput`).
    ///
    /// - Throws: `CheckpointError.outputExists` for a non-empty destination without `force`, `.io`
    ///   when the staging area cannot be made.
    public static func stage(_ plan: ConversionPlan) throws(CheckpointError) -> StagedOutput {
        try StagedOutput(
            destination: plan.request.destination, isDirectory: plan.writesDirectory, force: plan.request.force)
    }

    /// Refuses to commit an output made of a file that changed underneath it: it would be neither
    /// the old model nor the new one. Called last, after anything that reads the source again.
    ///
    /// - Throws: `ConvertError.sourceChanged` naming the file and what changed.
    public static func checkSourceUnchanged(_ plan: ConversionPlan) throws(ConvertError) {
        if let (path, change) = plan.source.sourceChange() {
            throw .sourceChanged(path: path, change: change)
        }
    }

    /// The weights through the format's writer, compressed when asked, then what a model directory
    /// gets: the format's extra files (an index, a TensorFlow `checkpoint` and
    /// `operative_config.gin`), `config.json`, the source's companions.
    ///
    /// - Throws: reading, casting and writing errors; the caller discards `staged`.
    public static func write(_ plan: ConversionPlan, into staged: StagedOutput, progress: Progress? = nil) throws
        -> ConversionReport
    {
        let total = plan.outputTensorBytes
        let counter = ProgressCounter(total: total, progress: progress)
        let emitted = plan.tensors.map { $0.emitted() }
        let sources = counter.reporting(emitted.map(\.bytes))
        // A single-file output is the staged file itself.
        let directory = plan.writesDirectory ? staged.staging : staged.staging.deletingLastPathComponent()
        let writerFiles = plan.files.map { file in
            let names = Set(file.tensorIndices.map { plan.tensors[$0].output.name })
            return WriterFile(
                name: plan.writesDirectory ? file.name : staged.staging.lastPathComponent,
                tensors: file.tensorIndices.map { sources[$0] },
                aliases: plan.aliases.filter { names.contains($0.target) })
        }
        var files: [String] = []
        var digests = WrittenFileDigests()
        if plan.request.compress {
            // A file at a time, each compressed before the next is written, so that at most one
            // plain file is ever on disk. Formats whose files depend on each other (a TensorFlow
            // bundle's index) refuse compression when planned.
            for file in writerFiles {
                let written = try plan.format.scheme.writeWeights([file], header: plan.header, in: directory)
                files += try written.map { try compress($0.name, in: directory, keepingName: !plan.writesDirectory) }
            }
        } else {
            let written = try plan.format.scheme.writeWeights(writerFiles, header: plan.header, in: directory)
            for digest in written.compactMap(\.digest) { digests.record(digest) }
            files = written.map(\.name)
        }
        if !plan.writesDirectory {
            return report(plan, staged, files: [staged.destination.lastPathComponent], digests, emitted)
        }
        for extra in plan.extraFiles {
            try FileSink.writeNewFile(extra.text, at: staged.staging.appendingPathComponent(extra.name).path)
            files.append(extra.name)
        }
        if let config = plan.configText {
            try FileSink.writeNewFile(config, at: staged.staging.appendingPathComponent("config.json").path)
            files.append("config.json")
        }
        try plan.companions.copy(into: staged.staging)
        return report(plan, staged, files: files, digests, emitted)
    }

    /// Compresses the weight file `name` in `directory` with zstd, after it was written plain (a
    /// PyTorch zip patches its headers at the end).
    ///
    /// - Returns: its name now: `<name>.zst`, or `name` when `keepingName` (a single file's
    ///   staging name).
    private static func compress(_ name: String, in directory: URL, keepingName: Bool) throws -> String {
        let plain = directory.appendingPathComponent(name)
        let compressed = URL(fileURLWithPath: plain.path + Zstd.suffix)
        try Zstd.compress(plain, to: compressed)
        try FileManager.default.removeItem(at: plain)
        guard keepingName else { return name + Zstd.suffix }
        try FileManager.default.moveItem(at: compressed, to: plain)
        return name
    }

    private static func report(
        _ plan: ConversionPlan, _ staged: StagedOutput, files: [String], _ digests: WrittenFileDigests,
        _ emitted: [EmittedTensor]
    ) -> ConversionReport {
        ConversionReport(
            destination: staged.destination, files: files, tensorCount: plan.tensors.count,
            tensorBytes: plan.outputTensorBytes, casts: castStatistics(emitted), foldedAliases: plan.foldedAliases,
            wroteConfig: plan.writesModelConfig, companions: plan.companions.files, digests: digests)
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
