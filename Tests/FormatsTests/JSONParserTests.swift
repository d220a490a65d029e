import Testing

@testable import Formats

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    @Test func parsesNestedValuesInOrder() throws {
        let value = try parse(#" {"b": [1, -2.5e3, true, null], "a": {"x": "y\u00e9\n"}} "#)
        #expect(value.members?.map(\.key) == ["b", "a"])
        #expect(value["b"]?.arrayValue?.count == 4)
        #expect(value["b"]?.arrayValue?[1].doubleValue == -2500)
        #expect(value["a"]?["x"]?.stringValue == "yé\n")
    }

    @Test func keepsLargeIntegersExact() throws {
        let value = try parse("[18446744073709551615, 9223372036854775807]")
        #expect(value.arrayValue?[0] == .number("18446744073709551615"))
        #expect(value.arrayValue?[0].intValue == nil)
        #expect(value.arrayValue?[1].intValue == Int.max)
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#).stringValue == "😀")
        #expect(throws: JSONParseError.self) { try parse(#""\ud83d""#) }
    }

    @Test func rejectsDuplicateKeysWithTheirOffset() {
        #expect(throws: JSONParseError(reason: .duplicateKey("a"), offset: 9)) { try parse(#"{"a": 1, "a": 2}"#) }
    }

    @Test func rejectsInvalidUTF8() {
        var bytes = Array(#"{"a": "x"}"#.utf8)
        bytes[7] = 0xFF
        #expect(throws: JSONParseError(reason: .invalidUTF8, offset: 7)) { try JSONParser.parse(bytes) }
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01x", "[1] 2", "\"\u{01}\"", "tru", "{\"a\": -}", "1.", "1e"])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func capsNestingDepth() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError(reason: .tooDeep, offset: JSONParser.maxDepth)) { try parse(deep) }
    }

    @Test func serializesWhatItParses() throws {
        let text = #"{"name":"a\"b\\c","list":[1,2.5,true,false,null],"nested":{}}"#
        #expect(try parse(text).serialized() == text)
        #expect(try parse(try parse(text).prettyPrinted()) == parse(text))
    }

    @Test(
        arguments: [
            ("123", 123), ("123.0", 123), ("1.23e2", 123), ("-4", -4), ("9223372036854775807", Int.max),
            ("1e300", nil), ("1.5", nil), ("18446744073709551616", nil), ("9.3e18", nil),
            ("1e15", 1_000_000_000_000_000),
            ("1e16", nil),
        ] as [(String, Int?)])
    func readsCountsExactlyOrNotAtAll(text: String, value: Int?) throws {
        #expect(try parse(text).exactIntegerValue == value)
    }
}
