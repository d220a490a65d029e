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

    private static func write(_ plan: ConversionPlan, into staged: StagedOutput, progress: Progress?) throws
        -> ConversionReport
    {
        let total = plan.outputTensorBytes
        let counter = ProgressCounter(total: total, progress: progress)
        var casts: [(String, DType, DType, CastStatistics)] = []
        var fileNames: [String] = []
        var weightMap: [String: String] = [:]

        if plan.format == .tensorflow {
            return try writeTensorFlow(plan, into: staged, progress: progress)
        }
        if plan.format == .gguf {
            return try writeGGUF(plan, into: staged, progress: progress)
        }
        for file in plan.files {
            let path =
                plan.writesDirectory ? staged.staging.appendingPathComponent(file.name).path : staged.staging.path
            let emitted = file.tensorIndices.map { plan.tensors[$0].emitted() }
            let sources = emitted.map(\.bytes)
            let names = Set(file.tensorIndices.map { plan.tensors[$0].output.name })
            let aliases = plan.aliases.filter { names.contains($0.target) }
            guard let writer = plan.format.writer else { preconditionFailure("\(plan.format) has no file writer") }
            try writer.writeFile(
                counter.reporting(sources),
                aliases: aliases, metadata: plan.metadata, at: path)
            casts += castStatistics(emitted)
            for index in file.tensorIndices { weightMap[plan.tensors[index].output.name] = file.name }
            // A PyTorch shard stores its aliases too, so the index maps them to it.
            if plan.format == .pytorch { for alias in aliases { weightMap[alias.alias] = file.name } }
            if plan.request.compress {
                // Written plain first (a PyTorch zip patches its headers at the end), then compressed.
                // In a directory the file becomes `<name>.zst`; a single file keeps its staging name.
                let compressed = URL(fileURLWithPath: path + Zstd.suffix)
                try Zstd.compress(URL(fileURLWithPath: path), to: compressed)
                try FileManager.default.removeItem(atPath: path)
                if !plan.writesDirectory {
                    try FileManager.default.moveItem(at: compressed, to: URL(fileURLWithPath: path))
                }
            }
            let suffix = plan.request.compress && plan.writesDirectory ? Zstd.suffix : ""
            fileNames.append(plan.writesDirectory ? file.name + suffix : staged.destination.lastPathComponent)
        }

        if plan.writesDirectory {
            if plan.files.count > 1 {
                try writeText(
                    ShardedCheckpoint.indexJSON(weightMap: weightMap, totalSize: total),
                    to: staged.staging.appendingPathComponent(plan.format.indexFileName))
                fileNames.append(plan.format.indexFileName)
            }
            if let config = plan.configText {
                try writeText(config, to: staged.staging.appendingPathComponent("config.json"))
                fileNames.append("config.json")
            }
            try plan.companions.copy(into: staged.staging)
        }
        return ConversionReport(
            destination: staged.destination, files: fileNames, tensorCount: plan.tensors.count, tensorBytes: total,
            casts: casts, foldedAliases: plan.foldedAliases,
            wroteConfig: plan.writesDirectory && plan.configJSON != nil,
            companions: plan.companions.files)
    }

    /// A Mesh-TF checkpoint directory: the bundle (sharded by `TensorBundle.write` in key order),
    /// its `checkpoint` file, the `operative_config.gin` (the source's, carried, or one written
    /// from the model), the source's `config.json` if it has one, and the other companions.
    private static func writeTensorFlow(_ plan: ConversionPlan, into staged: StagedOutput, progress: Progress?) throws
        -> ConversionReport
    {
        let total = plan.outputTensorBytes
        let counter = ProgressCounter(total: total, progress: progress)
        let emitted = plan.tensors.map { $0.emitted() }
        let sources = emitted.map(\.bytes)
        var files = try TensorBundle.write(
            counter.reporting(sources),
            prefix: staged.staging.appendingPathComponent(plan.format.singleFileName), shardSize: plan.request.shardSize
        )
        if let gin = plan.operativeConfig {
            try writeText(gin, to: staged.staging.appendingPathComponent(MeshTFLayout.ginFileName))
            files.append(MeshTFLayout.ginFileName)
        }
        if let config = plan.configText {
            try writeText(config, to: staged.staging.appendingPathComponent("config.json"))
            files.append("config.json")
        }
        try plan.companions.copy(into: staged.staging)
        return ConversionReport(
            destination: staged.destination, files: files, tensorCount: plan.tensors.count, tensorBytes: total,
            casts: castStatistics(emitted), foldedAliases: plan.foldedAliases,
            wroteConfig: plan.operativeConfig != nil || plan.keepsSourceGin, companions: plan.companions.files)
    }

    /// A GGUF file (in a directory with the source's companions, when the destination is one).
    private static func writeGGUF(_ plan: ConversionPlan, into staged: StagedOutput, progress: Progress?) throws
        -> ConversionReport
    {
        let total = plan.outputTensorBytes
        let counter = ProgressCounter(total: total, progress: progress)
        let emitted = plan.tensors.map { $0.emitted() }
        let sources = emitted.map(\.bytes)
        let path =
            plan.writesDirectory
            ? staged.staging.appendingPathComponent(plan.format.singleFileName).path : staged.staging.path
        try GGUFWriter.write(
            counter.reporting(sources),
            metadata: plan.ggufMetadata, to: path)
        if plan.writesDirectory { try plan.companions.copy(into: staged.staging) }
        return ConversionReport(
            destination: staged.destination,
            files: [plan.writesDirectory ? plan.format.singleFileName : staged.destination.lastPathComponent],
            tensorCount: plan.tensors.count, tensorBytes: total, casts: castStatistics(emitted),
            foldedAliases: plan.foldedAliases, wroteConfig: false, companions: plan.companions.files)
    }

    /// What each cast did, for the tensors that cast (read once they have been emitted).
    private static func castStatistics(_ emitted: [EmittedTensor]) -> [(String, DType, DType, CastStatistics)] {
        emitted.compactMap { tensor in
            tensor.castStatistics.map { statistics in
                (tensor.bytes.outputSpec.name, tensor.sourceDType, tensor.bytes.outputSpec.dtype, statistics())
            }
        }
    }

    private static func writeText(_ text: String, to url: URL) throws {
        var sink = try FileSink(creating: url.path)
        try sink.write(Array(text.utf8))
        try sink.close()
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
