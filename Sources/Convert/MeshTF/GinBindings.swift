import Foundation

/// The bindings of a gin file (`operative_config.gin`): `name = value` lines, read as text.
///
/// Only what a T5 operative config uses is understood: comments, `import` lines, values continued
/// with a trailing `\` or over an open bracket, and `%macro` references. Values stay unparsed
/// text; `value(for:)` resolves macro chains and `integer`/`boolean`/`string` read scalars.
public struct GinBindings: Sendable, Equatable {
    /// Binding name (`d_model`, `encoder/SelfAttention.num_heads`) -> value text, as written.
    public let bindings: [String: String]

    /// Why a gin file could not be read, with the 1-based line it happened on.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public init(bindings: [String: String]) { self.bindings = bindings }

    /// Parses gin `text`.
    ///
    /// - Throws: `ParseError` for a line that is neither a binding, an import nor a comment, or a
    ///   value whose brackets or quotes never close.
    public init(parsing text: String) throws(ParseError) {
        var scanned = 0
        self.bindings = try Self.parse(text, scanned: &scanned)
    }

    /// The bindings of `text`; `scanned` counts the characters the bracket scan visits (tests
    /// assert it stays linear in the text).
    ///
    /// A value left open grows by one line at a time: it is appended in place and only the new
    /// line is scanned, since copying and rescanning the whole value per line made an unclosed
    /// `[` followed by thousands of lines quadratic (minutes at 60 KB).
    static func parse(_ text: String, scanned: inout Int) throws(ParseError) -> [String: String] {
        var bindings: [String: String] = [:]
        var pending: PendingValue?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            var line = Self.strippingComment(String(rawLine)).trimmingWhitespace()
            let continues = line.hasSuffix("\\")
            if continues { line = String(line.dropLast()).trimmingWhitespace() }

            if pending != nil {
                pending?.append(line, scanned: &scanned)
            } else if line.isEmpty || line.hasPrefix("import ") || line.hasPrefix("from ") {
                continue
            } else {
                guard let equals = line.firstIndex(of: "=") else {
                    throw ParseError(line: lineNumber, reason: "expected 'name = value'")
                }
                let name = line[..<equals].trimmingWhitespace()
                guard Self.isBindingName(name) else {
                    throw ParseError(line: lineNumber, reason: "'\(name)' is not a gin binding name")
                }
                pending = PendingValue(name: name, line: lineNumber)
                pending?.append(line[line.index(after: equals)...].trimmingWhitespace(), scanned: &scanned)
            }
            if let current = pending, !continues, current.isBalanced {
                bindings[current.name] = current.text
                pending = nil
            }
        }
        if let open = pending {
            throw ParseError(
                line: open.line, reason: "the value of '\(open.name)' never ends (unclosed bracket or quote)")
        }
        return bindings
    }

    /// The value bound to `name`, following `%macro` references (at most 16, so a cycle ends).
    public func value(for name: String) -> String? {
        var value = bindings[name]
        var hops = 0
        while let current = value, current.hasPrefix("%"), hops < 16 {
            value = bindings[String(current.dropFirst())]
            hops += 1
        }
        return value.flatMap { $0.hasPrefix("%") ? nil : $0 }
    }

    /// The first of `names` that is bound, resolved.
    public func firstValue(_ names: [String]) -> (name: String, value: String)? {
        for name in names { if let value = value(for: name) { return (name, value) } }
        return nil
    }

    /// `value` as an integer, if it is one.
    public static func integer(_ value: String) -> Int? { Int(value) }

    /// `value` as a boolean (`True`/`False`), if it is one.
    public static func boolean(_ value: String) -> Bool? {
        switch value {
        case "True": true
        case "False": false
        default: nil
        }
    }

    /// `value` as a string literal (`'relu'` or `"relu"`), if it is one.
    public static func string(_ value: String) -> String? {
        guard value.count >= 2, let quote = value.first, quote == "'" || quote == "\"", value.last == quote else {
            return nil
        }
        return String(value.dropFirst().dropLast())
    }

    /// The string items of a list or tuple literal (`['gelu', 'linear']`), if it is one.
    public static func stringList(_ value: String) -> [String]? {
        guard let open = value.first, let close = value.last,
            (open == "[" && close == "]") || (open == "(" && close == ")")
        else { return nil }
        let items = value.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingWhitespace() }
            .filter { !$0.isEmpty }
        let strings = items.compactMap(string)
        return strings.count == items.count ? strings : nil
    }

    /// `scope/Configurable.parameter` or a macro name: letters, digits, `_`, `.`, `/`.
    private static func isBindingName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "_./".unicodeScalars.contains(scalar))
            }
    }

    /// `line` without a `#` comment (a `#` inside quotes is text).
    private static func strippingComment(_ line: String) -> String {
        var quote: Character?
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "#" {
                return String(line[..<index])
            }
        }
        return line
    }

    /// A value being read, possibly over several lines, with its bracket depth and open quote so
    /// far: each line is scanned once, when it is appended.
    private struct PendingValue {
        let name: String
        let line: Int
        var text = ""
        var depth = 0
        var quote: Character?

        init(name: String, line: Int) {
            self.name = name
            self.line = line
        }

        /// Whether every bracket and quote so far is closed.
        var isBalanced: Bool { depth <= 0 && quote == nil }

        /// Appends `part` (lines joined by a space) and scans only it.
        mutating func append(_ part: String, scanned: inout Int) {
            if !text.isEmpty && !part.isEmpty { text += " " }
            text += part
            for character in part {
                scanned += 1
                if let open = quote {
                    if character == open { quote = nil }
                    continue
                }
                switch character {
                case "'", "\"": quote = character
                case "[", "(", "{": depth += 1
                case "]", ")", "}": depth -= 1
                default: break
                }
            }
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String { trimmingCharacters(in: .whitespaces) }
}
