import Foundation

extension TensorBundle {
    /// Writes `tensors` as a TensorFlow checkpoint: `<prefix>.data-0000K-of-0000N` shards (tensors
    /// in key order, packed without alignment, a new shard past `shardSize` bytes), `<prefix>.index`,
    /// and a `checkpoint` file naming the prefix. Each tensor's CRC-32C is computed as it streams.
    ///
    /// - Parameters:
    ///   - prefix: e.g. `<staging dir>/model.ckpt-524288`; the caller stages the directory.
    /// - Returns: the files written, by name.
    @discardableResult
    public static func write(_ tensors: [any TensorByteSource], prefix: URL, shardSize: Int? = nil) throws -> [String] {
        let sorted = tensors.sorted { keyOrder($0.outputSpec.name, $1.outputSpec.name) }
        let groups = ShardPlan.groups(byteCounts: sorted.map(\.outputSpec.byteCount), limit: shardSize)
        let name = prefix.lastPathComponent
        let files = groups.enumerated().map { shard, indices in
            WriterFile(name: shardName(prefix: name, shard, of: groups.count), tensors: indices.map { sorted[$0] })
        }
        let directory = prefix.deletingLastPathComponent()
        let written = try TensorBundleWriter.write(files, header: .init(prefix: name), in: directory)
        try FileSink.writeNewFile(
            checkpointFileText(prefix: name), at: directory.appendingPathComponent(checkpointFileName).path)
        return written.map(\.name) + [checkpointFileName]
    }

    /// Whether `a` sorts before `b` as bundle keys do (bytewise), the order of the index and the shards.
    public static func keyOrder(_ a: String, _ b: String) -> Bool {
        Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    /// The file TensorFlow's `Saver` keeps beside its checkpoints, naming the latest prefix.
    public static let checkpointFileName = "checkpoint"

    /// The `checkpoint` file naming `prefix` as the latest (and only) checkpoint.
    public static func checkpointFileText(prefix: String) -> String {
        "model_checkpoint_path: \"\(prefix)\"\nall_model_checkpoint_paths: \"\(prefix)\"\n"
    }
}

/// Writes the data shards and `.index` of a TensorFlow checkpoint (TensorBundle).
///
/// The files given are the data shards, in order, each tensor packed without alignment (TensorFlow
/// writes them in key order across the shards). Each tensor's CRC-32C is computed as it streams.
public enum TensorBundleWriter: CheckpointWriter {
    public static let format = CheckpointFormat.tensorflowBundle

    /// The checkpoint's prefix (`model.ckpt`): the index is `<prefix>.index`.
    public struct Header: Sendable {
        public let prefix: String

        public init(prefix: String) {
            self.prefix = prefix
        }
    }

    public static func write(_ files: [WriterFile], header: Header, in directory: URL) throws -> [WrittenFile] {
        let prefixPath = directory.appendingPathComponent(header.prefix).path
        let indexURL = URL(fileURLWithPath: prefixPath + ".index")
        try files.flatMap(\.tensors).requireElementwiseDTypes(format: format, path: prefixPath)
        var entries: [(key: [UInt8], value: [UInt8])] = []
        var written: [WrittenFile] = []
        for (shard, file) in files.enumerated() {
            let url = directory.appendingPathComponent(file.name)
            let sink = try BackgroundFileSink(creating: url.path)
            do {
                for tensor in file.tensors {
                    let start = sink.bytesWritten
                    var checked = ChecksummingSink(base: sink, algorithm: .crc32c)
                    try tensor.emit(into: &checked)
                    let spec = tensor.outputSpec
                    guard let dataType = BundleEntry.dataType(of: spec.dtype) else {
                        throw CheckpointError.unsupportedDType(
                            path: prefixPath, tensor: spec.name, dtype: spec.dtype.rawValue,
                            format: format.displayName)
                    }
                    let entry = BundleEntry(
                        dataType: dataType, shape: spec.shape.map(Int64.init),
                        shardID: Int32(shard), offset: Int64(start), size: Int64(spec.byteCount),
                        maskedCRC32C: CRC32C.mask(checked.crc))
                    entries.append((Array(spec.name.utf8), BundleProtos.encode(entry)))
                }
                written.append(WrittenFile(name: file.name, digest: try sink.close()))
            } catch {
                sink.abandon()
                throw error
            }
        }
        // The index lists keys in order whatever order the shards hold them in.
        entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
        let bundleHeader = BundleProtos.encode(BundleHeader(shardCount: Int32(files.count)))
        try FileSink.writeNewFile(SSTableWriter.table([([], bundleHeader)] + entries), at: indexURL.path)
        return written + [WrittenFile(name: indexURL.lastPathComponent, digest: nil)]
    }
}
