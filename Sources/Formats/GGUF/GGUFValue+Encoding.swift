/// The bytes of metadata values, as `GGUFFile` reads them back.
extension GGUFValue {
    /// Appends the value without its type tag.
    func encode(into bytes: inout [UInt8]) {
        switch self {
        case let .uint8(value): bytes.appendLittleEndian(value)
        case let .int8(value): bytes.appendLittleEndian(value)
        case let .uint16(value): bytes.appendLittleEndian(value)
        case let .int16(value): bytes.appendLittleEndian(value)
        case let .uint32(value): bytes.appendLittleEndian(value)
        case let .int32(value): bytes.appendLittleEndian(value)
        case let .float32(value): bytes.appendLittleEndian(value.bitPattern)
        case let .bool(value): bytes.appendLittleEndian(UInt8(value ? 1 : 0))
        case let .string(value): bytes.appendGGUFString(value)
        case let .array(value): value.encode(into: &bytes)
        case let .uint64(value): bytes.appendLittleEndian(value)
        case let .int64(value): bytes.appendLittleEndian(value)
        case let .float64(value): bytes.appendLittleEndian(value.bitPattern)
        }
    }
}

extension GGUFArray {
    /// Appends the element type, the count and the elements.
    func encode(into bytes: inout [UInt8]) {
        bytes.appendLittleEndian(elementType.rawValue)
        bytes.appendLittleEndian(UInt64(count))
        switch self {
        case let .uint8(values): bytes.append(contentsOf: values)
        case let .int8(values): for value in values { bytes.appendLittleEndian(value) }
        case let .uint16(values): for value in values { bytes.appendLittleEndian(value) }
        case let .int16(values): for value in values { bytes.appendLittleEndian(value) }
        case let .uint32(values): for value in values { bytes.appendLittleEndian(value) }
        case let .int32(values): for value in values { bytes.appendLittleEndian(value) }
        case let .float32(values): for value in values { bytes.appendLittleEndian(value.bitPattern) }
        case let .bool(values): for value in values { bytes.appendLittleEndian(UInt8(value ? 1 : 0)) }
        case let .string(values): for value in values { bytes.appendGGUFString(value) }
        case let .array(values): for value in values { value.encode(into: &bytes) }
        case let .uint64(values): for value in values { bytes.appendLittleEndian(value) }
        case let .int64(values): for value in values { bytes.appendLittleEndian(value) }
        case let .float64(values): for value in values { bytes.appendLittleEndian(value.bitPattern) }
        }
    }
}

extension [UInt8] {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// A GGUF string: `u64` byte length, then the UTF-8 bytes.
    mutating func appendGGUFString(_ text: String) {
        appendLittleEndian(UInt64(text.utf8.count))
        append(contentsOf: text.utf8)
    }
}
