/// The type numbers of GGUF metadata values (`enum gguf_type` in ggml's `gguf.h`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// gguf.h's name without its `GGUF_TYPE_` prefix, in lower case (`"uint32"`, `"string"`).
    public var name: String { String(describing: self) }

    /// The fewest bytes a value of this type takes: a string's 8-byte length, an array's 4-byte
    /// element type and 8-byte count. Bounds an array's count by the bytes left before anything is
    /// allocated for it.
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64, .string: 8
        case .array: 12
        }
    }
}

/// One GGUF metadata value, typed as the file stores it.
///
/// Equality is value equality (`Float`'s and `Double`'s `==`, so a NaN value equals nothing).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// The value as `Checkpoint.metadata` shows it: numbers and booleans as Swift prints them,
    /// strings as they are, arrays of up to `GGUFArray.renderedElementLimit` scalars in full
    /// (`[1, 2, 3]`) and others summarized (`[32128 × string]`).
    public var rendered: String {
        switch self {
        case let .uint8(value): String(value)
        case let .int8(value): String(value)
        case let .uint16(value): String(value)
        case let .int16(value): String(value)
        case let .uint32(value): String(value)
        case let .int32(value): String(value)
        case let .float32(value): String(value)
        case let .bool(value): String(value)
        case let .string(value): value
        case let .array(value): value.rendered
        case let .uint64(value): String(value)
        case let .int64(value): String(value)
        case let .float64(value): String(value)
        }
    }
}

/// A GGUF metadata array: one element type, stored unboxed so that a tokenizer's 32k tokens or
/// scores cost what they would in a plain Swift array. Arrays may nest (`array` elements).
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8])
    case int8([Int8])
    case uint16([UInt16])
    case int16([Int16])
    case uint32([UInt32])
    case int32([Int32])
    case float32([Float])
    case bool([Bool])
    case string([String])
    case array([GGUFArray])
    case uint64([UInt64])
    case int64([Int64])
    case float64([Double])

    /// Arrays longer than this are summarized in `rendered`.
    public static let renderedElementLimit = 16

    public var elementType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    public var count: Int {
        switch self {
        case let .uint8(values): values.count
        case let .int8(values): values.count
        case let .uint16(values): values.count
        case let .int16(values): values.count
        case let .uint32(values): values.count
        case let .int32(values): values.count
        case let .float32(values): values.count
        case let .bool(values): values.count
        case let .string(values): values.count
        case let .array(values): values.count
        case let .uint64(values): values.count
        case let .int64(values): values.count
        case let .float64(values): values.count
        }
    }

    /// The elements as values (boxed; for rendering and tests, not for large arrays' hot paths).
    public var elements: [GGUFValue] {
        switch self {
        case let .uint8(values): values.map(GGUFValue.uint8)
        case let .int8(values): values.map(GGUFValue.int8)
        case let .uint16(values): values.map(GGUFValue.uint16)
        case let .int16(values): values.map(GGUFValue.int16)
        case let .uint32(values): values.map(GGUFValue.uint32)
        case let .int32(values): values.map(GGUFValue.int32)
        case let .float32(values): values.map(GGUFValue.float32)
        case let .bool(values): values.map(GGUFValue.bool)
        case let .string(values): values.map(GGUFValue.string)
        case let .array(values): values.map(GGUFValue.array)
        case let .uint64(values): values.map(GGUFValue.uint64)
        case let .int64(values): values.map(GGUFValue.int64)
        case let .float64(values): values.map(GGUFValue.float64)
        }
    }

    var rendered: String {
        let count = self.count
        if case .array = self {
            return "[\(count) × array]"
        }
        guard count <= Self.renderedElementLimit else { return "[\(count) × \(elementType.name)]" }
        let items = elements.map { element in
            if case let .string(text) = element { return "\"\(text)\"" }
            return element.rendered
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
