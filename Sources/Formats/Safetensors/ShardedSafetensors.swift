import Foundation

/// Sharded safetensors: `model-0000K-of-0000N.safetensors` files and the
/// `model.safetensors.index.json` that maps each tensor to its shard.
public enum ShardedSafetensors: CheckpointReader {
    public static let format = CheckpointFormat.safetensorsSharded
    /// The index file name transformers uses.
    public static let indexFileName = "model.safetensors.index.json"

    /// Index files are JSON text, recognised by name inside a directory rather than by bytes.
    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool { false }

    /// The file name of shard `number` (1-based) of `count`, as transformers names them.
    public static func shardFileName(_ number: Int, of count: Int) -> String {
        "model-\(zeroPadded(number))-of-\(zeroPadded(count)).safetensors"
    }

    /// Opens the checkpoint an index describes, and cross-checks index and shards both ways.
    ///
    /// - Throws: `SafetensorsError` for a malformed index, a missing shard, a tensor indexed in a
    ///   shard that lacks it, a shard tensor the index does not map there, or a wrong `total_size`.
    public static func open(_ indexURL: URL) throws -> Checkpoint {
        let index = indexURL.path
        let text = try MappedFile(path: index)
        let root: JSONValue
        do {
            root = try text.withBytes(in: 0..<text.size) { bytes throws(JSONParseError) in try JSONParser.parse(bytes) }
        } catch {
            throw SafetensorsError.invalidIndex(
                path: index, reason: "not valid JSON at byte offset \(error.offset) (\(error.reason))")
        }
        guard let weightMap = root["weight_map"]?.members else {
            throw SafetensorsError.invalidIndex(path: index, reason: "no \"weight_map\" object")
        }

        // Shards in order of first appearance of their file name, sorted, so reading is deterministic.
        var tensorsByShard: [String: Set<String>] = [:]
        for member in weightMap {
            guard let shard = member.value.stringValue else {
                throw SafetensorsError.invalidIndex(
                    path: index, reason: "weight_map value for '\(member.key)' is not a string")
            }
            guard isPlainFileName(shard) else {
                throw SafetensorsError.invalidIndex(
                    path: index, reason: "shard name '\(shard)' is not a file in the index's directory")
            }
            tensorsByShard[shard, default: []].insert(member.key)
        }

        let directory = indexURL.deletingLastPathComponent()
        var tensors: [TensorRef] = []
        var files: [URL] = []
        var metadata: [String: String] = [:]
        for shard in tensorsByShard.keys.sorted() {
            let shardURL = directory.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: shardURL.path) else {
                throw SafetensorsError.missingShard(index: index, shard: shard)
            }
            let checkpoint = try SafetensorsReader.open(shardURL)
            let expected = tensorsByShard[shard] ?? []
            let present = Set(checkpoint.tensors.map(\.name))
            if let stray = checkpoint.tensors.first(where: { !expected.contains($0.name) }) {
                throw SafetensorsError.tensorNotIndexed(index: index, tensor: stray.name, shard: shard)
            }
            if let absent = expected.sorted().first(where: { !present.contains($0) }) {
                throw SafetensorsError.tensorNotInShard(index: index, tensor: absent, shard: shard)
            }
            tensors += checkpoint.tensors
            files.append(shardURL)
            metadata.merge(checkpoint.metadata) { first, _ in first }
        }

        if let declared = root["metadata"]?["total_size"] {
            let actual = tensors.reduce(0) { $0 + $1.spec.byteCount }
            // transformers has written total_size both as an integer and as a float ("123.0").
            guard let value = declared.doubleValue, value == value.rounded(), value >= 0 else {
                throw SafetensorsError.invalidIndex(path: index, reason: "metadata.total_size is not a byte count")
            }
            guard Int(exactly: value) == actual else {
                throw SafetensorsError.indexTotalSizeMismatch(path: index, declared: Int(value), actual: actual)
            }
        }
        return Checkpoint(
            format: .safetensorsSharded, location: indexURL, directory: directory, files: files, tensors: tensors,
            metadata: metadata)
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

    private static func zeroPadded(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    /// A shard name must stay inside the index's directory: no separators, no `..`.
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
