/// The reads a GGUF header is made of, each turning a short read or a bad value into a `GGUFError`
/// that names the field and its offset.
struct GGUFParser {
    /// A tensor info as read, before its type and shape are checked.
    struct TensorEntry {
        let name: String
        let dimensions: [UInt64]
        let type: UInt32
        let offset: UInt64
        let infoOffset: Int
        let dimensionsOffset: Int
        let typeOffset: Int
    }

    var reader: ByteReader
    let path: String

    private var fileSize: Int { reader.bounds.upperBound }

    mutating func integer<T: FixedWidthInteger>(_ field: @autoclosure () -> String) throws(GGUFError) -> T {
        guard let value = reader.readInteger(as: T.self) else {
            throw .truncated(path: path, reading: field(), offset: reader.offset, fileSize: fileSize)
        }
        return value
    }

    /// A header count, refused when even the smallest entries would not fit in the bytes left.
    mutating func count(_ field: String, minimumEntrySize: Int) throws(GGUFError) -> UInt64 {
        let offset = reader.offset
        let count: UInt64 = try integer(field)
        guard count <= UInt64(reader.remaining / minimumEntrySize) else {
            throw .countTooLarge(path: path, what: field, count: count, offset: offset, remaining: reader.remaining)
        }
        return count
    }

    mutating func string(_ field: @autoclosure () -> String) throws(GGUFError) -> String {
        let offset = reader.offset
        let length: UInt64 = try integer("the length of \(field())")
        guard let bytes = reader.readBytes(length) else {
            throw .stringTooLong(
                path: path, reading: field(), length: length, offset: offset, remaining: reader.remaining)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidUTF8(path: path, reading: field(), offset: offset)
        }
        return text
    }

    /// A metadata value preceded by its `u32` type.
    mutating func taggedValue(key: String) throws(GGUFError) -> GGUFValue {
        let offset = reader.offset
        let raw: UInt32 = try integer("the value type of '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(path: path, key: key, type: raw, offset: offset)
        }
        return try value(of: type, key: key)
    }

    private mutating func value(of type: GGUFValueType, key: String) throws(GGUFError) -> GGUFValue {
        let field = "the value of '\(key)'"
        return switch type {
        case .uint8: .uint8(try integer(field))
        case .int8: .int8(try integer(field))
        case .uint16: .uint16(try integer(field))
        case .int16: .int16(try integer(field))
        case .uint32: .uint32(try integer(field))
        case .int32: .int32(try integer(field))
        case .float32: .float32(Float(bitPattern: try integer(field)))
        case .bool: .bool(try bool(key: key))
        case .string: .string(try string(field))
        case .array: .array(try array(key: key, depth: 1))
        case .uint64: .uint64(try integer(field))
        case .int64: .int64(try integer(field))
        case .float64: .float64(Double(bitPattern: try integer(field)))
        }
    }

    private mutating func bool(key: String) throws(GGUFError) -> Bool {
        let offset = reader.offset
        let byte: UInt8 = try integer("the value of '\(key)'")
        guard byte <= 1 else { throw .invalidBool(path: path, key: key, value: byte, offset: offset) }
        return byte == 1
    }

    /// An array: `u32` element type, `u64` count, elements. The count is checked against the bytes
    /// left (at the element type's smallest size) before anything is allocated for it.
    private mutating func array(key: String, depth: Int) throws(GGUFError) -> GGUFArray {
        let offset = reader.offset
        guard depth <= GGUFFile.maxArrayDepth else {
            throw .arrayNestedTooDeeply(path: path, key: key, offset: offset, limit: GGUFFile.maxArrayDepth)
        }
        let raw: UInt32 = try integer("the element type of array '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw .unknownValueType(path: path, key: key, type: raw, offset: offset)
        }
        let count: UInt64 = try integer("the length of array '\(key)'")
        guard count <= UInt64(reader.remaining / type.minimumEncodedSize) else {
            throw .arrayTooLong(
                path: path, key: key, count: count, elementType: type.name, offset: offset, remaining: reader.remaining)
        }
        let length = Int(count)
        let field = "an element of array '\(key)'"
        switch type {
        case .uint8: return .uint8(try integers(length, field))
        case .int8: return .int8(try integers(length, field))
        case .uint16: return .uint16(try integers(length, field))
        case .int16: return .int16(try integers(length, field))
        case .uint32: return .uint32(try integers(length, field))
        case .int32: return .int32(try integers(length, field))
        case .float32: return .float32(try integers(length, field, as: UInt32.self).map(Float.init(bitPattern:)))
        case .uint64: return .uint64(try integers(length, field))
        case .int64: return .int64(try integers(length, field))
        case .float64: return .float64(try integers(length, field, as: UInt64.self).map(Double.init(bitPattern:)))
        case .bool:
            var values: [Bool] = []
            values.reserveCapacity(length)
            for _ in 0..<length { values.append(try bool(key: key)) }
            return .bool(values)
        case .string:
            var values: [String] = []
            values.reserveCapacity(length)
            for _ in 0..<length { values.append(try string(field)) }
            return .string(values)
        case .array:
            var values: [GGUFArray] = []
            values.reserveCapacity(length)
            for _ in 0..<length { values.append(try array(key: key, depth: depth + 1)) }
            return .array(values)
        }
    }

    private mutating func integers<T: FixedWidthInteger>(_ count: Int, _ field: String, as type: T.Type = T.self)
        throws(GGUFError) -> [T]
    {
        var values: [T] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try integer(field)) }
        return values
    }

    /// A tensor info as stored; its name is checked to be non-empty and its dimension count to be
    /// 1 to `GGMLType.maxDimensions` before the dimensions are read.
    mutating func tensorEntry(index: UInt64) throws(GGUFError) -> TensorEntry {
        let infoOffset = reader.offset
        let name = try string("the name of tensor info \(index)")
        guard !name.isEmpty else { throw .emptyTensorName(path: path, offset: infoOffset) }
        let dimensionsOffset = reader.offset
        let dimensionCount: UInt32 = try integer("the dimension count of '\(name)'")
        guard dimensionCount >= 1 && dimensionCount <= UInt32(GGMLType.maxDimensions) else {
            throw .invalidDimensionCount(path: path, tensor: name, count: dimensionCount, offset: dimensionsOffset)
        }
        var dimensions: [UInt64] = []
        for _ in 0..<dimensionCount { dimensions.append(try integer("a dimension of '\(name)'")) }
        let typeOffset = reader.offset
        let type: UInt32 = try integer("the ggml type of '\(name)'")
        let offset: UInt64 = try integer("the data offset of '\(name)'")
        return TensorEntry(
            name: name, dimensions: dimensions, type: type, offset: offset, infoOffset: infoOffset,
            dimensionsOffset: dimensionsOffset, typeOffset: typeOffset)
    }

    /// The entry's spec: a type zoo reads, rows of whole blocks, a size that fits in `Int`.
    func spec(of entry: TensorEntry) throws(GGUFError) -> TensorSpec {
        guard let dtype = GGMLType.dtype(of: entry.type) else {
            if let name = GGMLType.names[entry.type] {
                throw .unsupportedTensorType(path: path, tensor: entry.name, type: name, offset: entry.typeOffset)
            }
            throw .unknownTensorType(path: path, tensor: entry.name, type: entry.type, offset: entry.typeOffset)
        }
        var shape: [Int] = []
        for dimension in entry.dimensions.reversed() {
            guard let size = Int(exactly: dimension) else {
                throw .shapeOverflow(
                    path: path, tensor: entry.name, dimensions: entry.dimensions, offset: entry.dimensionsOffset)
            }
            shape.append(size)
        }
        if dtype.isBlockQuantized, let row = entry.dimensions.first, row % UInt64(dtype.elementsPerBlock) != 0 {
            throw .rowNotWholeBlocks(
                path: path, tensor: entry.name, rowLength: row, type: dtype.rawValue, blockSize: dtype.elementsPerBlock,
                offset: entry.dimensionsOffset)
        }
        guard let spec = TensorSpec(name: entry.name, dtype: dtype, shape: shape) else {
            throw .shapeOverflow(
                path: path, tensor: entry.name, dimensions: entry.dimensions, offset: entry.dimensionsOffset)
        }
        return spec
    }
}
