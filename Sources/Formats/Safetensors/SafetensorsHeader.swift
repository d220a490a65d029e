/// The parsed, fully validated header of one safetensors file.
///
/// Validation follows `FORMATS.md`: capped length, a JSON object, known dtypes, sizes that match
/// dtype x shape without overflow, offsets contiguous from 0, non-overlapping, and ending exactly
/// at end of file, no duplicate names.
public struct SafetensorsHeader: Sendable, Equatable {
    /// The same cap upstream safetensors uses.
    public static let maxHeaderLength = 100_000_000

    /// One tensor's entry: its spec and where its bytes are, relative to the data buffer.
    public struct Entry: Sendable, Equatable {
        public let spec: TensorSpec
        public let dataOffsets: Range<Int>
    }

    /// Entries in data-offset order.
    public let entries: [Entry]
    /// `__metadata__`, string to string.
    public let metadata: [String: String]
    /// Length of the JSON text (after the 8-byte length prefix), padding included.
    public let headerLength: Int

    /// Absolute offset of the data buffer in the file.
    public var dataStart: Int { 8 + headerLength }

    /// Parses and validates the header of a file whose bytes are `bytes`.
    ///
    /// - Parameter path: used in error messages only.
    /// - Throws: `SafetensorsError`, naming the first problem found.
    public init(fileBytes bytes: UnsafeRawBufferPointer, path: String) throws(SafetensorsError) {
        var reader = ByteReader(bytes)
        guard let declaredLength = reader.readInteger(as: UInt64.self) else {
            throw .fileTooSmall(path: path, size: bytes.count)
        }
        guard declaredLength <= UInt64(Self.maxHeaderLength) else {
            throw .headerTooLarge(path: path, length: declaredLength, limit: Self.maxHeaderLength)
        }
        guard let json = reader.readBytes(declaredLength) else {
            throw .headerLengthOutOfBounds(path: path, length: declaredLength, fileSize: bytes.count)
        }
        headerLength = json.count

        let root: JSONValue
        do {
            root = try JSONParser.parse(json)
        } catch {
            let offset = 8 + error.offset
            switch error.reason {
            case .invalidUTF8: throw .invalidUTF8(path: path, offset: offset)
            case let .duplicateKey(key): throw .duplicateTensor(path: path, tensor: key, offset: offset)
            case let .syntax(reason): throw .invalidJSON(path: path, offset: offset, reason: reason)
            case .tooDeep: throw .invalidJSON(path: path, offset: offset, reason: "nested too deeply")
            }
        }
        guard let members = root.members else {
            throw .invalidHeader(path: path, offset: 8, reason: "the header must be a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        let dataSize = bytes.count - 8 - headerLength
        for member in members {
            let offset = 8 + member.offset
            if member.key == "__metadata__" {
                metadata = try Self.parseMetadata(member.value, path: path, offset: offset)
                continue
            }
            let entry = try Self.parseEntry(member, path: path, offset: offset)
            guard entry.dataOffsets.upperBound <= dataSize else {
                throw .offsetsOutOfBounds(
                    path: path, tensor: entry.spec.name,
                    end: 8 + headerLength + entry.dataOffsets.upperBound, fileSize: bytes.count)
            }
            entries.append(entry)
        }

        entries.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < (
                $1.dataOffsets.lowerBound, $1.dataOffsets.upperBound
            )
        }
        try Self.checkContiguous(entries, dataStart: 8 + headerLength, dataSize: dataSize, path: path)
        self.entries = entries
        self.metadata = metadata
    }

    private static func parseMetadata(_ value: JSONValue, path: String, offset: Int) throws(SafetensorsError)
        -> [String: String]
    {
        guard let members = value.members else {
            throw .invalidMetadata(path: path, offset: offset, reason: "must be an object of strings")
        }
        var metadata: [String: String] = [:]
        for member in members {
            guard let text = member.value.stringValue else {
                throw .invalidMetadata(
                    path: path, offset: 8 + member.offset, reason: "value of '\(member.key)' is not a string")
            }
            metadata[member.key] = text
        }
        return metadata
    }

    private static func parseEntry(_ member: JSONValue.Member, path: String, offset: Int) throws(SafetensorsError)
        -> Entry
    {
        let name = member.key
        guard member.value.members != nil else {
            throw .invalidHeader(path: path, offset: offset, reason: "entry '\(name)' is not an object")
        }
        guard let dtypeName = member.value["dtype"]?.stringValue else {
            throw .invalidHeader(path: path, offset: offset, reason: "entry '\(name)' has no string \"dtype\"")
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw .unknownDType(path: path, tensor: name, dtype: dtypeName, offset: offset)
        }
        guard let shapeValues = member.value["shape"]?.arrayValue else {
            throw .invalidHeader(path: path, offset: offset, reason: "entry '\(name)' has no \"shape\" list")
        }
        var shape: [Int] = []
        for value in shapeValues {
            guard case let .number(text) = value else { throw .invalidShape(path: path, tensor: name, offset: offset) }
            // A dimension too large for Int is an overflow, a fraction or a negative is malformed.
            if let dimension = Int(text) {
                guard dimension >= 0 else { throw .invalidShape(path: path, tensor: name, offset: offset) }
                shape.append(dimension)
            } else if UInt64(text) != nil {
                throw .shapeOverflow(
                    path: path, tensor: name,
                    shape: "[" + shapeValues.map { $0.serialized() }.joined(separator: ", ") + "]")
            } else {
                throw .invalidShape(path: path, tensor: name, offset: offset)
            }
        }
        guard let spec = TensorSpec(name: name, dtype: dtype, shape: shape) else {
            throw .shapeOverflow(
                path: path, tensor: name, shape: "[" + shape.map(String.init).joined(separator: ", ") + "]")
        }
        guard let offsets = member.value["data_offsets"]?.arrayValue, offsets.count == 2,
            let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0
        else {
            throw .invalidHeader(
                path: path, offset: offset,
                reason: "entry '\(name)' needs \"data_offsets\": [begin, end] of non-negative integers")
        }
        guard begin <= end else { throw .invalidOffsets(path: path, tensor: name, begin: begin, end: end) }
        guard end - begin == spec.byteCount else {
            throw .sizeMismatch(path: path, tensor: name, expected: spec.byteCount, actual: end - begin)
        }
        return Entry(spec: spec, dataOffsets: begin..<end)
    }

    private static func checkContiguous(_ entries: [Entry], dataStart: Int, dataSize: Int, path: String)
        throws(SafetensorsError)
    {
        var expected = 0
        var previous: String?
        for entry in entries {
            let begin = entry.dataOffsets.lowerBound
            if begin < expected, let previous {
                throw .overlappingOffsets(
                    path: path, tensor: entry.spec.name, previous: previous, offset: dataStart + begin)
            }
            if begin > expected {
                throw .gapInOffsets(
                    path: path, tensor: entry.spec.name, expected: dataStart + expected, found: dataStart + begin)
            }
            expected = entry.dataOffsets.upperBound
            previous = entry.spec.name
        }
        if expected != dataSize {
            throw .trailingBytes(path: path, dataEnd: dataStart + expected, fileSize: dataStart + dataSize)
        }
    }
}
