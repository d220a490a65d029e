import Testing

@testable import Formats

/// The JSON parser's work is linear in its input, for every shape of text a hostile header,
/// config or sharded index can take: counted (reads of a byte), not timed.
@Suite struct JSONParserWorkTests {
    /// Reads of a byte per byte of input, at most: a token boundary is looked at a few times
    /// (whitespace, value, separator), never a whole value again.
    private static let readsPerByte = 6

    /// Documents of about `scale` units of each hostile shape, and whether each must parse.
    private static func documents(scale: Int) -> [(name: String, text: String, valid: Bool)] {
        let nested = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        let entries = (0..<scale).map { "\"encoder.block.\($0).layer.0.SelfAttention.q.weight\": \"a.safetensors\"" }
        return [
            ("numbers", "[" + Array(repeating: "1", count: scale).joined(separator: ",") + "]", true),
            (
                "deep nesting, repeated",
                "[" + Array(repeating: nested, count: scale / 64).joined(separator: ",") + "]", true
            ),
            ("keys", "{" + (0..<scale).map { "\"k\($0)\": 0" }.joined(separator: ", ") + "}", true),
            ("escapes", "\"" + String(repeating: #"\u00e9\n\"\\"#, count: scale) + "\"", true),
            (
                "sharded index",
                "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {" + entries.joined(separator: ",\n") + "}}", true
            ),
            ("unterminated string", "{\"a\": \"" + String(repeating: "x", count: scale), false),
            ("unterminated nesting", String(repeating: "[", count: 63) + String(repeating: "1, ", count: scale), false),
            (
                "duplicate key at the end",
                "{" + (0..<scale).map { "\"k\($0)\": 0" }.joined(separator: ", ") + ", \"k0\": 1}", false
            ),
        ]
    }

    private static func examined(_ text: String) -> (reads: Int, parsed: Bool) {
        var reads = 0
        let bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeBytes { buffer in
            (try? JSONParser.parse(buffer, examined: &reads)) != nil
        }
        return (reads, parsed)
    }

    @Test func readsEachByteAFewTimesAtMost() {
        for document in Self.documents(scale: 20_000) {
            let (reads, parsed) = Self.examined(document.text)
            let length = document.text.utf8.count
            #expect(parsed == document.valid, "\(document.name)")
            #expect(reads <= Self.readsPerByte * length, "\(document.name): \(reads) reads of \(length) bytes")
        }
    }

    @Test func workGrowsInProportionToTheInput() {
        for (small, large) in zip(Self.documents(scale: 2_000), Self.documents(scale: 16_000)) {
            let smallReads = Self.examined(small.text).reads
            let largeReads = Self.examined(large.text).reads
            let growth = Double(large.text.utf8.count) / Double(small.text.utf8.count)
            #expect(
                Double(largeReads) <= 1.1 * growth * Double(smallReads),
                "\(small.name): \(smallReads) reads, then \(largeReads) for \(growth)x the text")
        }
    }
}
