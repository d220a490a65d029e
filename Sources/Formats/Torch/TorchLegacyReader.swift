import Foundation

/// Reads `torch.save` files written before PyTorch 1.6 (or with
/// `_use_new_zipfile_serialization=False`): five pickles in a row (magic number, protocol version,
/// system info, the object, the list of storage keys), then each storage as an `i64` element
/// count followed by its raw bytes, exactly to the end of the file.
public enum TorchLegacyReader: CheckpointReader {
    public static let format = CheckpointFormat.pytorchLegacy
    /// `0x1950a86a20f9469cfc6c` as a pickled LONG1's little-endian bytes.
    static let magic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    /// A pickle of protocol 2 (torch's default) to 5 (`pickle_protocol=` 4 and 5 add framing) at
    /// the start of the file; the magic number itself is checked on open, so a legacy file with a
    /// wrong magic gets that error rather than "unrecognised".
    public static func matches(prefix: [UInt8], fileSize: Int) -> Bool {
        prefix.count >= 2 && prefix[0] == 0x80 && (2...5).contains(prefix[1])
    }

    /// Legacy files store no checksums, so `checksums` changes nothing.
    public static func open(_ url: URL, checksums: ChecksumPolicy) throws -> Checkpoint {
        let path = url.path
        let file = try MappedFile(path: path)
        let (stateDict, storageKeys, dataStart) = try file.withBytes(in: 0..<file.size) {
            bytes throws(TorchError) in try readPickles(bytes, path: path)
        }
        let dtypes = Dictionary(stateDict.entries.map { ($0.tensor.storage.key, $0.tensor.storage.dtype) }) {
            first, _ in first
        }

        // Raw storages, in the order of the key list.
        var storages: [String: Range<Int>] = [:]
        var offset = dataStart
        for key in storageKeys {
            guard let dtype = dtypes[key] else {
                throw TorchError.notAStateDict(path: path, reason: "storage '\(key)' is listed but no tensor uses it")
            }
            // Each storage is its element count (int64) followed by its bytes.
            let span = file.withBytes(in: offset..<file.size) { bytes -> Range<Int>? in
                var reader = ByteReader(bytes)
                guard let count = reader.readInteger(as: Int64.self), let elements = Int(exactly: count),
                    let byteCount = elements.checkedMultiplying(by: dtype.byteSize),
                    let data = reader.readRange(byteCount)
                else { return nil }
                return (offset + data.lowerBound)..<(offset + data.upperBound)
            }
            guard let span else { throw TorchError.legacyTruncated(path: path, storage: key, offset: offset) }
            storages[key] = span
            offset = span.upperBound
        }
        guard offset == file.size else { throw TorchError.legacyTrailingBytes(path: path, offset: offset) }

        let resolver = TorchTensorResolver(
            path: path, storageBytes: { key in storages[key].map { .init(file: file, range: $0) } },
            storageName: { "storage \($0)" })
        return Checkpoint(
            format: format, location: url, directory: url.deletingLastPathComponent(), files: [url],
            tensors: try resolver.resolve(stateDict.entries), metadata: [:], skipped: stateDict.skipped)
    }

    /// The five pickles: returns the state dict, the storage keys, and where the raw data starts.
    private static func readPickles(
        _ bytes: UnsafeRawBufferPointer, path: String
    ) throws(TorchError) -> (TorchStateDict, [String], Int) {
        var offset = 0
        /// Runs the next pickle and reads what is needed out of its value before tearing it down.
        func nextPickle<T>(_ what: String, _ read: (PickleValue) throws(TorchError) -> T) throws(TorchError) -> T {
            var machine = PickleMachine(bytes: bytes, start: offset, path: path, member: what)
            defer { machine.tearDown() }
            let value = try machine.run()
            offset = machine.endOffset
            return try read(value)
        }

        try nextPickle("magic number") { value throws(TorchError) in
            guard case let .bigInt(digits) = value, digits == Self.magic else { throw .legacyBadMagic(path: path) }
        }
        try nextPickle("protocol version") { value throws(TorchError) in
            guard case let .int(version) = value else { throw .legacyBadMagic(path: path) }
            guard version == 1001 else { throw .legacyUnsupportedVersion(path: path, version: version) }
        }
        try nextPickle("system info") { value throws(TorchError) in
            guard case let .dict(info) = value else { return }
            for (key, flag) in info.entries {
                if case .string("little_endian") = key, case .bool(false) = flag { throw .bigEndian(path: path) }
            }
        }
        let stateDict = try nextPickle("object pickle") { value throws(TorchError) in
            try TorchStateDict(value, path: path)
        }
        let keys = try nextPickle("storage key list") { value throws(TorchError) -> [String] in
            guard case let .list(list) = value else {
                throw .invalidPickleValue(path: path, member: "storage key list", offset: offset, reason: "not a list")
            }
            return try list.items.map { item throws(TorchError) -> String in
                switch item {
                case let .string(key): return key
                case let .int(key): return String(key)
                default:
                    throw .invalidPickleValue(
                        path: path, member: "storage key list", offset: offset, reason: "a key is a \(item.kind)")
                }
            }
        }
        return (stateDict, keys, offset)
    }
}
