/// A JSON value that keeps object members in file order, duplicates detectable.
///
/// zoo parses JSON headers and index files itself rather than with Foundation because
/// `JSONSerialization` silently keeps the last of two equal keys: a safetensors header naming one
/// tensor twice, or an index mapping one tensor to two shards, must be an error instead.
public indirect enum JSONValue: Sendable, Equatable {
    case object([Member])
    case array([JSONValue])
    case string(String)
    /// The number's text as written, so integers up to `UInt64.max` and decimals both survive.
    case number(String)
    case bool(Bool)
    case null

    /// One `"key": value` pair of an object, with the byte offset of its key.
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSONValue
        public let offset: Int

        public init(key: String, value: JSONValue, offset: Int = 0) {
            self.key = key
            self.value = value
            self.offset = offset
        }

        /// Members are equal when key and value are; where they were found does not matter.
        public static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.key == rhs.key && lhs.value == rhs.value
        }
    }

    /// The members, if this is an object.
    public var members: [Member]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// The first member named `key`, if this is an object that has one.
    public subscript(key: String) -> JSONValue? {
        members?.first { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case let .string(value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case let .array(values) = self { return values }
        return nil
    }

    /// The value as an `Int`, if it is a number written as an integer that fits.
    public var intValue: Int? {
        if case let .number(text) = self { return Int(text) }
        return nil
    }

    /// The value as an `Int`, if it is a number with an integral value that fits, written as an
    /// integer or with a fraction or exponent ("123", "123.0", "1.23e2"): how Python writers may
    /// spell a count. Never rounds and never traps, whatever the text says.
    public var exactIntegerValue: Int? {
        guard case let .number(text) = self else { return nil }
        if let integer = Int(text) { return integer }
        // Doubles hold every integer up to 2^53 exactly; beyond that a decimal text may have been
        // rounded on the way in, so only smaller values are trusted.
        guard let double = Double(text), double.magnitude <= 9_007_199_254_740_992 else { return nil }
        return Int(exactly: double)
    }

    /// The value as a `Double`, if it is a number.
    public var doubleValue: Double? {
        if case let .number(text) = self { return Double(text) }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    /// A copy of this object with `key` set to `value` (replaced in place, or appended).
    public func setting(_ key: String, to value: JSONValue) -> JSONValue {
        guard var members else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index] = Member(key: key, value: value, offset: members[index].offset)
        } else {
            members.append(Member(key: key, value: value))
        }
        return .object(members)
    }
}
