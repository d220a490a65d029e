import Foundation

/// Sharded checkpoints as transformers writes them: shard files and a JSON index
/// (`{"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}`), the same schema for
/// safetensors (`model.safetensors.index.json`) and PyTorch (`pytorch_model.bin.index.json`).
public enum ShardedCheckpoint {
    /// Opens the checkpoint an index describes, reading each shard with `readShard`, and
    /// cross-checks index and shards both ways. The shard reader comes from the layer above
    /// (`open(index:format:shardFormats:checksums:)` in `ShardedCheckpoint+Open.swift`): Core
    /// knows no format.
    ///
    /// - Throws: `CheckpointError` for a malformed index, a missing shard, a tensor indexed in a
    ///   shard that lacks it, a shard tensor the index does not map there, or a wrong `total_size`;
    ///   the shard reader's errors.
    public static func open(
        index indexURL: URL, format: CheckpointFormat, readShard: (URL) throws -> Checkpoint
    ) throws -> Checkpoint {
        let index = indexURL.path
        let text = try MappedFile(path: index)
        let root: JSONValue
        do {
            root = try text.withBytes(in: 0..<text.size) { bytes throws(JSONParseError) in try JSONParser.parse(bytes) }
        } catch {
            throw CheckpointError.invalidIndex(
                path: index, reason: "not valid JSON at byte offset \(error.offset) (\(error.reason))")
        }
        guard let weightMap = root["weight_map"]?.members else {
            throw CheckpointError.invalidIndex(path: index, reason: "no \"weight_map\" object")
        }

        var tensorsByShard: [String: Set<String>] = [:]
        for member in weightMap {
            guard let shard = member.value.stringValue else {
                throw CheckpointError.invalidIndex(
                    path: index, reason: "weight_map value for '\(member.key)' is not a string")
            }
            guard isPlainFileName(shard) else {
                throw CheckpointError.invalidIndex(
                    path: index, reason: "shard name '\(shard)' is not a file in the index's directory")
            }
            tensorsByShard[shard, default: []].insert(member.key)
        }

        let directory = indexURL.deletingLastPathComponent()
        var tensors: [TensorRef] = []
        var files: [URL] = []
        var metadata: [String: String] = [:]
        var skipped: [String] = []
        var unverified: [String] = []
        // Shards in name order, so reading is deterministic.
        for shard in tensorsByShard.keys.sorted() {
            // A shard may be stored compressed beside its indexed name (`<shard>.zst`).
            var shardURL = directory.appendingPathComponent(shard)
            if !FileManager.default.fileExists(atPath: shardURL.path) {
                shardURL = directory.appendingPathComponent(shard + Zstd.suffix)
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: shardURL.path, isDirectory: &isDirectory) else {
                throw CheckpointError.missingShard(index: index, shard: shard)
            }
            // A shard is a data file: an index (or a directory) would be opened as a checkpoint in
            // turn, and one that names its own index recursed until the stack overflowed.
            guard !isDirectory.boolValue, !shard.hasSuffix(".index.json") else {
                throw CheckpointError.invalidIndex(
                    path: index, reason: "shard name '\(shard)' is an index or a directory, not a data file")
            }
            let checkpoint = try readShard(shardURL)
            let expected = tensorsByShard[shard] ?? []
            let present = Set(checkpoint.tensors.map(\.name))
            if let stray = checkpoint.tensors.first(where: { !expected.contains($0.name) }) {
                throw CheckpointError.tensorNotIndexed(index: index, tensor: stray.name, shard: shard)
            }
            if let absent = expected.sorted().first(where: { !present.contains($0) }) {
                throw CheckpointError.tensorNotInShard(index: index, tensor: absent, shard: shard)
            }
            tensors += checkpoint.tensors
            files.append(shardURL)
            metadata.merge(checkpoint.metadata) { first, _ in first }
            skipped += checkpoint.skipped
            unverified += checkpoint.unverified
        }

        if let declared = root["metadata"]?["total_size"] {
            // transformers has written total_size both as an integer and as a float ("123.0").
            guard let declaredBytes = declared.exactIntegerValue, declaredBytes >= 0 else {
                throw CheckpointError.invalidIndex(
                    path: index, reason: "metadata.total_size (\(declared.serialized())) is not a byte count")
            }
            // Tied tensors share bytes in PyTorch shards; writers count them once or once per name.
            let everyName = tensors.reduce(0) { $0 + $1.spec.byteCount }
            var seen = Set<String>()
            let uniqueBytes = tensors.reduce(0) { total, tensor in
                seen.insert("\(tensor.file.path)@\(tensor.fileOffset)+\(tensor.spec.byteCount)").inserted
                    ? total + tensor.spec.byteCount : total
            }
            guard declaredBytes == everyName || declaredBytes == uniqueBytes else {
                throw CheckpointError.indexTotalSizeMismatch(path: index, declared: declaredBytes, actual: uniqueBytes)
            }
        }
        return Checkpoint(
            format: format, location: indexURL, directory: directory, files: files, tensors: tensors,
            metadata: metadata, skipped: skipped, unverified: unverified)
    }

    /// The index JSON for tensors written to shards, as transformers lays it out.
    ///
    /// - Parameter weightMap: tensor name to shard file name.
    public static func indexJSON(weightMap: [String: String], totalSize: Int) -> String {
        let map = weightMap.sorted { $0.key < $1.key }.map { JSONValue.Member(key: $0.key, value: .string($0.value)) }
        let root: JSONValue = .object([
            JSONValue.Member(
                key: "metadata",
                value: .object([JSONValue.Member(key: "total_size", value: .number(String(totalSize)))])),
            JSONValue.Member(key: "weight_map", value: .object(map)),
        ])
        return root.prettyPrinted() + "\n"
    }

    /// `<stem>-0000K-of-0000N.<extension>`, as transformers names shards.
    public static func shardFileName(stem: String, extension fileExtension: String, _ number: Int, of count: Int)
        -> String
    {
        "\(stem)-\(ShardPlan.fiveDigits(number))-of-\(ShardPlan.fiveDigits(count)).\(fileExtension)"
    }

    /// A shard name must stay inside the index's directory: no separators, no `..`.
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
