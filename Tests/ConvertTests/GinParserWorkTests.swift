import Testing

@testable import Convert

/// The gin parser's work is linear in its input: counted, not timed, so the test holds on any
/// machine. A value left open (`d_model = [` then thousands of lines) used to be copied and
/// rescanned on every line: quadratic, minutes at 60 KB.
@Suite struct GinParserWorkTests {
    /// An operative config whose first value never closes, followed by `lines` lines.
    private static func unclosed(lines: Int) -> String {
        "d_model = [\n" + String(repeating: "    1024, 2048, 4096,\n", count: lines)
    }

    @Test func scansEachCharacterOfAnUnclosedValueOnce() {
        let text = Self.unclosed(lines: 5_000)
        var scanned = 0
        #expect(throws: GinBindings.ParseError.self) { try GinBindings.parse(text, scanned: &scanned) }
        // Each character is scanned at most once; the quadratic parser scanned ~2,500 times more.
        #expect(scanned > 0 && scanned <= text.count, "scanned \(scanned) characters of \(text.count)")
    }

    @Test func workGrowsInProportionToTheInput() {
        var small = 0
        var large = 0
        _ = try? GinBindings.parse(Self.unclosed(lines: 1_000), scanned: &small)
        _ = try? GinBindings.parse(Self.unclosed(lines: 8_000), scanned: &large)
        // Eight times the lines is eight times the work (a quadratic parser does 64 times).
        #expect(large <= 9 * small, "\(small) characters scanned for 1,000 lines, \(large) for 8,000")
    }

    @Test func aValueClosedLaterStillParses() throws {
        let text = "d_model = [\n" + String(repeating: "  1,\n", count: 2_000) + "]\nd_ff = 2048\n"
        var scanned = 0
        let bindings = try GinBindings.parse(text, scanned: &scanned)
        #expect(bindings["d_ff"] == "2048")
        #expect(bindings["d_model"]?.hasPrefix("[ 1, 1,") == true)
        #expect(bindings["d_model"]?.hasSuffix("1, ]") == true)
        #expect(scanned <= text.count)
    }
}
