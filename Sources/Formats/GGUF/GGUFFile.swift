/// One tensor's entry in a GGUF header, checked against the file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// Name, dtype and shape, the shape in row-major (numpy) order: `dimensions` reversed, as the
    /// gguf Python package and every other zoo format present it.
    public let spec: TensorSpec
    /// ggml's `ne` as the file stores it, innermost (row length) first.
    public let dimensions: [UInt64]
    /// The ggml type number (`GGMLType`).
    public let ggmlType: UInt32
    /// The data offset as stored: relative to the data section, a multiple of the alignment.
    public let offset: UInt64
    /// Where the tensor's bytes start in the file.
    public let fileOffset: Int
    /// Where the tensor info starts in the file (for messages).
    public let infoOffset: Int
}

/// A parsed, fully validated GGUF (version 3, little-endian) header: typed metadata in file order,
/// tensor infos, the alignment and where the data section starts.
///
/// Layout: `"GGUF"`, `u32` version, `u64` tensor count, `u64` metadata count, the metadata (`string`
/// key, `u32` value type, value), the tensor infos (`string` name, `u32` dimension count, `u64`
/// dimensions innermost first, `u32` ggml type, `u64` offset), zero padding to the alignment, then
/// the data section. Strings are a `u64` byte length and UTF-8 bytes; arrays a `u32` element type,
/// a `u64` count and the elements. Every count, length and offset is checked against the bytes
/// before it is used.
public struct GGUFFile: Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    public static let supportedVersion: UInt32 = 3
    /// The key that sets the data alignment (a `uint32` power of two).
    public static let alignmentKey = "general.alignment"
    /// The alignment when `general.alignment` is absent (`GGUF_DEFAULT_ALIGNMENT`).
    public static let defaultAlignment = 32
    /// Arrays nested deeper than this are refused (ggml itself reads none nested; gguf-py any).
    public static let maxArrayDepth = 16

    /// The file, for messages.
    public let path: String
    public let version: UInt32
    /// Every metadata entry, in file order (keys are unique).
    public let metadata: [(key: String, value: GGUFValue)]
    /// Every tensor info, in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section: the end of the tensor infos, padded to the alignment.
    public let dataOffset: Int

    /// The value of metadata `key`, if present.
    public func value(forKey key: String) -> GGUFValue? {
        metadata.first { $0.key == key }?.value
    }

    /// Every metadata value rendered as a string (`GGUFValue.rendered`; long arrays summarized as
    /// `[32128 × string]`), for `Checkpoint.metadata`.
    public var renderedMetadata: [String: String] {
        Dictionary(metadata.map { ($0.key, $0.value.rendered) }, uniquingKeysWith: { first, _ in first })
    }

    /// Parses and validates the GGUF file whose bytes are `bytes`.
    ///
    /// - Parameter path: used in error messages only.
    /// - Throws: `GGUFError`, naming the first problem found.
    public init(parsing bytes: UnsafeRawBufferPointer, path: String) throws(GGUFError) {
        var parser = GGUFParser(reader: ByteReader(bytes), path: path)
        guard bytes.count >= 4, Array(bytes.prefix(4)) == Self.magic else {
            throw .notGGUF(path: path, firstBytes: Self.hex(bytes.prefix(4)))
        }
        parser.reader.skip(4)
        let version: UInt32 = try parser.integer("the version")
        guard version == Self.supportedVersion else {
            // A big-endian file's small version number reads as a huge little-endian one.
            if (1...Self.supportedVersion).contains(version.byteSwapped) {
                throw .bigEndian(path: path, version: version)
            }
            throw .unsupportedVersion(path: path, version: version)
        }
        let tensorCount: UInt64 = try parser.count("the tensor count", minimumEntrySize: 32)
        let metadataCount: UInt64 = try parser.count("the metadata count", minimumEntrySize: 13)

        var metadata: [(key: String, value: GGUFValue)] = []
        var alignment = Self.defaultAlignment
        var keys = Set<String>()
        for index in 0..<metadataCount {
            let entryOffset = parser.reader.offset
            let key = try parser.string("the key of metadata entry \(index)")
            guard keys.insert(key).inserted else { throw .duplicateKey(path: path, key: key, offset: entryOffset) }
            let typeOffset = parser.reader.offset
            let value = try parser.taggedValue(key: key)
            if key == Self.alignmentKey {
                guard case let .uint32(declared) = value, declared != 0, declared & (declared - 1) == 0 else {
                    throw .invalidAlignment(
                        path: path, value: "\(value.type.name) \(value.rendered)", offset: typeOffset)
                }
                alignment = Int(declared)
            }
            metadata.append((key, value))
        }

        var entries: [(info: GGUFParser.TensorEntry, spec: TensorSpec)] = []
        var names = Set<String>()
        for index in 0..<tensorCount {
            let entry = try parser.tensorEntry(index: index)
            guard names.insert(entry.name).inserted else {
                throw .duplicateTensor(path: path, tensor: entry.name, offset: entry.infoOffset)
            }
            entries.append((entry, try parser.spec(of: entry)))
        }

        // The end of the infos is inside the file, so padding it cannot overflow.
        let dataOffset = (parser.reader.offset + alignment - 1) / alignment * alignment
        var tensors: [GGUFTensorInfo] = []
        for (entry, spec) in entries {
            guard entry.offset % UInt64(alignment) == 0 else {
                throw .misalignedOffset(
                    path: path, tensor: entry.name, offset: entry.offset, alignment: alignment,
                    infoOffset: entry.infoOffset)
            }
            guard let relative = Int(exactly: entry.offset), let begin = dataOffset.checkedAdding(relative),
                let end = begin.checkedAdding(spec.byteCount), end <= bytes.count
            else {
                throw .tensorOutOfBounds(
                    path: path, tensor: entry.name, offset: entry.offset, byteCount: spec.byteCount,
                    dataOffset: dataOffset, fileSize: bytes.count, infoOffset: entry.infoOffset)
            }
            tensors.append(
                GGUFTensorInfo(
                    spec: spec, dimensions: entry.dimensions, ggmlType: entry.type, offset: entry.offset,
                    fileOffset: begin, infoOffset: entry.infoOffset))
        }
        try Self.checkDisjoint(tensors, path: path)

        self.path = path
        self.version = version
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = alignment
        self.dataOffset = dataOffset
    }

    /// Tensors may sit in any order, and padding between them is allowed, but no byte may belong
    /// to two (empty tensors own none).
    private static func checkDisjoint(_ tensors: [GGUFTensorInfo], path: String) throws(GGUFError) {
        let sorted = tensors.filter { $0.spec.byteCount > 0 }.sorted { $0.fileOffset < $1.fileOffset }
        for (previous, next) in zip(sorted, sorted.dropFirst())
        where next.fileOffset < previous.fileOffset + previous.spec.byteCount {
            throw .overlappingTensors(
                path: path, tensor: next.spec.name, other: previous.spec.name, offset: next.fileOffset)
        }
    }

    private static func hex(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        bytes.isEmpty ? "(empty file)" : bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
