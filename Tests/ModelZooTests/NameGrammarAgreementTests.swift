import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import ModelZoo

/// The T5-Efficient name grammar exists twice: in `ModelName` (what zoo parses) and in the
/// tables of `Scripts/make-registry.py` (what generated `registry.json`). CI has no Python, so
/// this test reads the script's tables as text and checks that `ModelName` follows each of them.
@Suite struct NameGrammarAgreementTests {
    /// The script's text, read once.
    static let script = Result {
        try String(contentsOf: Fixtures.repository.appendingPathComponent("Scripts/make-registry.py"), encoding: .utf8)
    }

    /// The right-hand side of the top-level assignment `NAME = ...` (to the end of its bracket).
    private static func table(_ name: String) throws -> String {
        let text = try script.get()
        let start = try #require(text.range(of: "\n\(name) = ")).upperBound
        let rest = text[start...]
        guard let open = rest.first, "[{(\"".contains(open) else { return String(rest.prefix { $0 != "\n" }) }
        if open == "\"" { return String(rest.dropFirst().prefix { $0 != "\"" }) }
        let close: Character = open == "[" ? "]" : open == "{" ? "}" : ")"
        var depth = 0
        var end = rest.startIndex
        for index in rest.indices {
            if rest[index] == open { depth += 1 }
            if rest[index] == close {
                depth -= 1
                if depth == 0 {
                    end = index
                    break
                }
            }
        }
        return String(rest[rest.startIndex...end])
    }

    /// Every double-quoted string in `text`, in order.
    private static func strings(_ text: String) -> [String] {
        text.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }

    private static let baseConfig = T5Config(
        vocabSize: 32128, dModel: 512, dKV: 64, dFF: 2048, numHeads: 8, numLayers: 6, numDecoderLayers: 6,
        feedForward: .relu, tieWordEmbeddings: true)

    /// config.json's name of each field `ModelName` may change, read from a config.
    private static func fields(_ config: T5Config) -> [String: Int] {
        [
            "num_layers": config.numLayers, "num_decoder_layers": config.numDecoderLayers, "d_model": config.dModel,
            "d_ff": config.dFF, "d_kv": config.dKV, "num_heads": config.numHeads,
        ]
    }

    @Test func prefixAndBasesAgree() throws {
        #expect(try Self.table("PREFIX") == ModelName.prefix)
        #expect(Self.strings(try Self.table("BASE_ORDER")) == ModelName.bases)
    }

    @Test func sharingTokensAgree() throws {
        let tokens = Self.strings(try Self.table("SHARING_TOKENS"))
        #expect(Set(tokens) == ["sh", "skv", "shkv"])
        for token in tokens {
            #expect(try ModelName(parsing: "t5-efficient-base-\(token)").sharing != nil, "\(token)")
        }
    }

    /// Each numbered token sets exactly the fields the script's NUMBERED says, and counts
    /// thousands as 1024 exactly when THOUSANDS_ARE_1024 lists it.
    @Test func numberedTokensSetTheSameFields() throws {
        let numbered = Self.strings(try Self.table("NUMBERED"))
        let thousands = Set(Self.strings(try Self.table("THOUSANDS_ARE_1024")))
        // NUMBERED is {"token": ("field", ...), ...}: a token, then its fields, then the next token.
        var table: [String: Set<String>] = [:]
        var current: String?
        for text in numbered {
            if Self.fields(Self.baseConfig)[text] == nil {
                current = text
                table[text] = []
            } else if let current {
                table[current]?.insert(text)
            }
        }
        #expect(Set(table.keys) == ["nl", "el", "dl", "dm", "ff", "kv", "nh"])
        for (token, expected) in table {
            let changed = try ModelName(parsing: "t5-efficient-base-\(token)7").architecture(base: Self.baseConfig)
            let before = Self.fields(Self.baseConfig)
            let after = Self.fields(changed)
            #expect(Set(after.filter { before[$0.key] != $0.value }.keys) == expected, "\(token)")
            let big = try ModelName(parsing: "t5-efficient-base-\(token)2000").architecture(base: Self.baseConfig)
            let value = Self.fields(big)[try #require(expected.first)]
            #expect(value == (thousands.contains(token) ? 2048 : 2000), "\(token)2000")
        }
    }
}
