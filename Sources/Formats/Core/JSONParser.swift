/// Why a JSON text was rejected, and the byte offset where.
public struct JSONParseError: Error, Equatable, Sendable {
    public enum Reason: Equatable, Sendable {
        case syntax(String)
        case invalidUTF8
        case duplicateKey(String)
        case tooDeep
    }

    public let reason: Reason
    /// Byte offset into the parsed text.
    public let offset: Int
}

/// A strict RFC 8259 parser over untrusted bytes.
///
/// Strings must be valid UTF-8, keys unique within an object, nesting at most `maxDepth` deep, and
/// nothing but whitespace may follow the value. Errors carry the byte offset.
public struct JSONParser {
    /// Deep enough for any header or config, shallow enough that recursion cannot exhaust the stack.
    public static let maxDepth = 64

    /// Parses `bytes` as one JSON value.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        var examined = 0
        return try parse(bytes, examined: &examined)
    }

    /// Parses `bytes`, counting in `examined` every look at a byte: tests assert it stays within
    /// a small multiple of the length, so no change can make the parser rescan what it has read.
    static func parse(_ bytes: UnsafeRawBufferPointer, examined: inout Int) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        defer { examined += parser.examined }
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else {
            throw parser.error(.syntax("unexpected text after the JSON value"))
        }
        return value
    }

    /// Parses the UTF-8 bytes of `text`.
    public static func parse(_ text: [UInt8]) throws(JSONParseError) -> JSONValue {
        var result: Result<JSONValue, JSONParseError> = .success(.null)
        text.withUnsafeBytes { buffer in
            result = Result { () throws(JSONParseError) in try parse(buffer) }
        }
        return try result.get()
    }

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    /// Reads of `current`, the parser's only way to look at a byte.
    private var examined = 0

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    private func error(_ reason: JSONParseError.Reason, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(reason: reason, offset: offset ?? position)
    }

    private var current: UInt8? {
        mutating get {
            examined += 1
            return position < bytes.count ? bytes[position] : nil
        }
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
        }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
        guard current == byte else { throw error(.syntax("expected \(what)")) }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error(.tooDeep) }
        switch current {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case .some(let byte) where byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39):
            return .number(try parseNumber())
        case nil: throw error(.syntax("unexpected end of text"))
        default: throw error(.syntax("unexpected character"))
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        position += 1
        var members: [JSONValue.Member] = []
        var seen = Set<String>()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            let keyOffset = position
            guard current == UInt8(ascii: "\"") else { throw error(.syntax("expected a string key")) }
            let key = try parseString()
            guard seen.insert(key).inserted else { throw error(.duplicateKey(key), at: keyOffset) }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after an object key")
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append(JSONValue.Member(key: key, value: value, offset: keyOffset))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        position += 1
        var values: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(values)
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - position >= count else { throw error(.syntax("unexpected end of text")) }
        examined += count
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw error(.syntax("invalid literal"))
        }
        position += count
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard consumeDigits() > 0 else { throw error(.syntax("invalid number")) }
        if current == UInt8(ascii: ".") {
            position += 1
            guard consumeDigits() > 0 else { throw error(.syntax("invalid number")) }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard consumeDigits() > 0 else { throw error(.syntax("invalid number")) }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    }

    private mutating func consumeDigits() -> Int {
        let start = position
        while let byte = current, byte >= 0x30 && byte <= 0x39 { position += 1 }
        return position - start
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        position += 1  // opening quote
        var utf8: [UInt8] = []
        let start = position
        while true {
            guard let byte = current else { throw error(.syntax("unterminated string"), at: start - 1) }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                // Validate rather than repair: bad UTF-8 in a tensor name is an error, not U+FFFD.
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw error(.invalidUTF8, at: start)
                }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error(.syntax("control character in a string"))
            default:
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONParseError) {
        guard let byte = current else { throw error(.syntax("unterminated escape")) }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): utf8.append(0x22)
        case UInt8(ascii: "\\"): utf8.append(0x5C)
        case UInt8(ascii: "/"): utf8.append(0x2F)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800..<0xDC00).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard current == UInt8(ascii: "\\") else { throw error(.invalidUTF8) }
                position += 1
                guard current == UInt8(ascii: "u") else { throw error(.invalidUTF8) }
                position += 1
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error(.invalidUTF8) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw error(.invalidUTF8) }
            utf8.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            throw error(.syntax("invalid escape"))
        }
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw error(.syntax("truncated \\u escape")) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw error(.syntax("truncated \\u escape")) }
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw error(.syntax("invalid \\u escape"))
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
