import Foundation

/// TensorFlow checkpoints (TensorBundle): `<prefix>.index`, a LevelDB-format table mapping each
/// tensor name to a `BundleEntryProto`, and `<prefix>.data-0000K-of-0000N` shards holding the raw
/// little-endian bytes. The original Mesh-TensorFlow T5 checkpoints are in this format.
public enum TensorBundle {
    /// More shards than any checkpoint has: a header claiming more is refused before anything is opened.
    static let maxShards: Int32 = 100_000
    /// The entry that marks a TensorFlow 2 object-based checkpoint (`tf.train.Checkpoint`).
    static let objectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH"

    /// The data shard file name of shard `index` (0-based) of `count`.
    public static func shardName(prefix: String, _ index: Int, of count: Int) -> String {
        "\(prefix).data-\(ShardPlan.fiveDigits(index))-of-\(ShardPlan.fiveDigits(count))"
    }

    /// The `<prefix>.index` file for what the user named: the index itself, a prefix
    /// (`model.ckpt-524288`), or a directory (its `checkpoint` file's latest prefix, else its one index).
    public static func indexFile(for url: URL) -> URL? {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue { return url.pathExtension == "index" ? url : nil }
            let contents = (try? manager.contentsOfDirectory(atPath: url.path)) ?? []
            if let latest = latestPrefix(in: url) { return url.appendingPathComponent(latest + ".index") }
            let indexes = contents.filter { $0.hasSuffix(".index") }
            return indexes.count == 1 ? url.appendingPathComponent(indexes[0]) : nil
        }
        let index = URL(fileURLWithPath: url.path + ".index")
        return manager.fileExists(atPath: index.path) ? index : nil
    }

    /// `model_checkpoint_path: "model.ckpt-524288"` from a directory's `checkpoint` file.
    static func latestPrefix(in directory: URL) -> String? {
        // Through MappedFile, which refuses a FIFO or device instead of blocking on it.
        guard let file = try? MappedFile(path: directory.appendingPathComponent("checkpoint").path) else {
            return nil
        }
        let text = file.withBytes(in: 0..<file.size) { String(decoding: $0, as: UTF8.self) }
        for line in text.split(separator: "\n") where line.hasPrefix("model_checkpoint_path:") {
            let value = line.dropFirst("model_checkpoint_path:".count).trimmingCharacters(in: .whitespaces)
            let name = value.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            // The path may be absolute from the machine that trained: only its last component is ours.
            return URL(fileURLWithPath: name).lastPathComponent
        }
        return nil
    }

    /// Opens the checkpoint whose index is `index`.
    ///
    /// - Throws: `TensorFlowError` for a bad table, header or entry, a missing shard, an entry past
    ///   its shard, or a partitioned variable; `CheckpointError.foreignFormat` for a TensorFlow 2
    ///   object-based checkpoint; with `.verifyOnOpen`, `CheckpointError.checksumMismatch`
    ///   for a tensor whose bytes fail their CRC-32C (otherwise that is found as the tensor is read).
    public static func open(index: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let path = index.path
        let table = try SSTable(try MappedFile(path: path))
        let prefix = String(index.lastPathComponent.dropLast(".index".count))
        let directory = index.deletingLastPathComponent()

        guard let headerEntry = table.entries.first, headerEntry.key.isEmpty else {
            throw TensorFlowError.missingHeader(path: path)
        }
        // tf.train.Checkpoint stores its object graph as a string tensor under this key.
        if table.entries.contains(where: { $0.key.elementsEqual(objectGraphKey.utf8) }) {
            throw CheckpointError.foreignFormat(path: path, format: .tensorflowObjectBased)
        }
        guard let header = table.file.withBytes(in: headerEntry.value, { BundleProtos.decodeHeader($0) }) else {
            throw TensorFlowError.invalidHeader(path: path, reason: "the header is not a BundleHeaderProto")
        }
        guard header.shardCount >= 1, header.shardCount <= maxShards else {
            throw TensorFlowError.invalidHeader(path: path, reason: "num_shards is \(header.shardCount)")
        }
        // TensorFlow's bundle version is 1 (kTensorBundleVersion); a header asking for more is from
        // a format zoo does not know.
        guard header.minConsumerVersion <= 1 else {
            throw TensorFlowError.unsupportedVersion(path: path, minConsumer: header.minConsumerVersion)
        }
        guard header.endianness == 0 else {
            throw TensorFlowError.invalidHeader(path: path, reason: "the checkpoint is big-endian")
        }
        let count = Int(header.shardCount)
        var shards: [MappedFile] = []
        for shard in 0..<count {
            let url = directory.appendingPathComponent(shardName(prefix: prefix, shard, of: count))
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TensorFlowError.missingShard(path: path, shard: url.lastPathComponent)
            }
            shards.append(try MappedFile(path: url.path))
        }

        var tensors: [TensorRef] = []
        for entry in table.entries.dropFirst() {
            let name = String(decoding: entry.key, as: UTF8.self)
            guard let decoded = table.file.withBytes(in: entry.value, { BundleProtos.decodeEntry($0) }) else {
                throw TensorFlowError.invalidEntry(
                    path: path, tensor: name, offset: entry.value.lowerBound, reason: "not a BundleEntryProto")
            }
            guard decoded.sliceCount == 0 else { throw TensorFlowError.slicedEntry(path: path, tensor: name) }
            tensors.append(try tensor(name, decoded, at: entry.value.lowerBound, shards: shards, path: path))
        }
        if checksums == .verifyOnOpen {
            for tensor in tensors { try tensor.forEachVerifiedChunk { _ in } }
        }
        return Checkpoint(
            format: .tensorflowBundle, location: index, directory: directory,
            files: [index] + shards.map { URL(fileURLWithPath: $0.path) }, tensors: tensors, metadata: [:])
    }

    private static func tensor(
        _ name: String, _ entry: BundleEntry, at offset: Int, shards: [MappedFile], path: String
    ) throws -> TensorRef {
        guard let dtype = entry.dtype else {
            throw TensorFlowError.unsupportedDType(path: path, tensor: name, offset: offset, dataType: entry.dataType)
        }
        guard entry.shape.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }),
            let spec = TensorSpec(name: name, dtype: dtype, shape: entry.shape.map { Int($0) })
        else {
            throw TensorFlowError.invalidEntry(
                path: path, tensor: name, offset: offset, reason: "shape \(entry.shape) is invalid")
        }
        guard entry.size == Int64(spec.byteCount) else {
            throw TensorFlowError.entrySizeMismatch(
                path: path, tensor: name, offset: offset, size: entry.size, expected: spec.byteCount)
        }
        guard entry.shardID >= 0, Int(entry.shardID) < shards.count else {
            throw TensorFlowError.shardIdOutOfRange(
                path: path, tensor: name, offset: offset, shardID: entry.shardID, shardCount: shards.count)
        }
        let shard = shards[Int(entry.shardID)]
        let (end, overflow) = entry.offset.addingReportingOverflow(entry.size)
        guard entry.offset >= 0, !overflow, end <= Int64(shard.size) else {
            throw TensorFlowError.entryOutOfBounds(
                path: path, tensor: name, shard: shard.path, start: entry.offset, end: overflow ? .max : end,
                shardSize: shard.size)
        }
        return TensorRef(
            spec: spec, file: shard, fileOffset: Int(entry.offset),
            expectedChecksum: .crc32c(CRC32C.unmask(entry.maskedCRC32C)))
    }
}
