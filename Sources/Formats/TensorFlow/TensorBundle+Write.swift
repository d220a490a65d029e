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
        try tensors.requireElementwiseDTypes(format: .tensorflowBundle, path: prefix.path)
        let sorted = tensors.sorted {
            Array($0.outputSpec.name.utf8).lexicographicallyPrecedes(Array($1.outputSpec.name.utf8))
        }
        let groups = ShardPlan.groups(byteCounts: sorted.map(\.outputSpec.byteCount), limit: shardSize).map {
            $0.map { sorted[$0] }
        }
        let name = prefix.lastPathComponent
        let directory = prefix.deletingLastPathComponent()
        var entries: [(key: [UInt8], value: [UInt8])] = []
        var files: [String] = []
        for (shard, group) in groups.enumerated() {
            let shardFile = shardName(prefix: name, shard, of: groups.count)
            let sink = try BackgroundFileSink(creating: directory.appendingPathComponent(shardFile).path)
            do {
                for tensor in group {
                    let start = sink.bytesWritten
                    var checked = ChecksummingSink(base: sink, algorithm: .crc32c)
                    try tensor.emit(into: &checked)
                    let spec = tensor.outputSpec
                    guard let dataType = BundleEntry.dataType(of: spec.dtype) else {
                        throw CheckpointError.unsupportedDType(
                            path: prefix.path, tensor: spec.name, dtype: spec.dtype.rawValue,
                            format: CheckpointFormat.tensorflowBundle.displayName)
                    }
                    let entry = BundleEntry(
                        dataType: dataType, shape: spec.shape.map(Int64.init),
                        shardID: Int32(shard), offset: Int64(start), size: Int64(spec.byteCount),
                        maskedCRC32C: CRC32C.mask(checked.crc))
                    entries.append((Array(spec.name.utf8), BundleProtos.encode(entry)))
                }
                try sink.close()
            } catch {
                sink.abandon()
                throw error
            }
            files.append(shardFile)
        }
        let header = BundleProtos.encode(BundleHeader(shardCount: Int32(groups.count)))
        let table = SSTableWriter.table([([], header)] + entries)
        try write(table, to: directory.appendingPathComponent(name + ".index"))
        try write(
            Array("model_checkpoint_path: \"\(name)\"\nall_model_checkpoint_paths: \"\(name)\"\n".utf8),
            to: directory.appendingPathComponent("checkpoint"))
        return files + [name + ".index", "checkpoint"]
    }

    private static func write(_ bytes: [UInt8], to url: URL) throws {
        var sink = try FileSink(creating: url.path)
        try sink.write(bytes)
        try sink.close()
    }
}
