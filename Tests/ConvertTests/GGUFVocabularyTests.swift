import Foundation
import TestSupport
import Testing

@testable import Convert
@testable import Formats

/// `GGUFVocabulary` against the tokenizer key-values gguf-py writes when following llama.cpp's
/// `T5Model.set_vocab` (`Tests/Fixtures/spm/expected_vocab.json`, make-fixtures group M).
@Suite struct GGUFVocabularyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let fixture: String
        let index: Int
        let vocabularySize: Int
        /// Where SpecialVocab found the special tokens (see make-fixtures' special_tokens_dir).
        let specialTokens: String
        var testDescription: String { "\(fixture) vocab_size \(vocabularySize) (\(specialTokens))" }
    }

    static func expected() throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: Fixtures.url("spm/expected_vocab.json"))))
    }

    static let cases: [Case] = {
        guard let root = try? expected(), let members = root.members else { return [] }
        return members.flatMap { member in
            (member.value["gguf"]?.arrayValue ?? []).enumerated().map { index, entry in
                Case(
                    fixture: member.key, index: index, vocabularySize: entry["vocab_size"]?.intValue ?? -1,
                    specialTokens: entry["special_tokens"]?.stringValue ?? "")
            }
        }
    }()

    /// What the Swift side is given for each of the fixture's special-token sources.
    static func specialTokens(_ source: String, _ model: SentencePieceModel) -> GGUFVocabulary.SpecialTokens {
        switch source {
        case "t5_tokenizer_files", "hub_snapshot": .t5(model)
        // The config.json every T5 has: eos_token_id 1, pad_token_id 0.
        case "config_json": .init(eos: 1, pad: 0)
        default: .init()
        }
    }

    @Test func everyFixtureHasCases() {
        #expect(Set(Self.cases.map(\.fixture)).count == 3)
        #expect(Self.cases.count >= 6)
    }

    @Test(arguments: cases)
    func metadataIsWhatTheConverterWrites(_ testCase: Case) throws {
        let expected = try #require(try Self.expected()[testCase.fixture]?["gguf"]?.arrayValue?[testCase.index])
        let entries = try #require(expected["entries"]?.arrayValue)
        let model = try SentencePieceModel.read(Fixtures.url(testCase.fixture))
        let vocabulary = try GGUFVocabulary(
            model: model, vocabularySize: testCase.vocabularySize,
            specialTokens: Self.specialTokens(testCase.specialTokens, model))
        let metadata = vocabulary.metadata
        #expect(metadata.map(\.key) == entries.map { $0["key"]?.stringValue ?? "" })
        for (entry, want) in zip(metadata, entries) {
            #expect(matches(entry.value, want), "\(entry.key)")
        }
        #expect(vocabulary.tokens.count == testCase.vocabularySize)
    }

    /// Whether `value` is the `{"type", "value"}` of the expected entry; the charsmap is given by
    /// its length and CRC-32.
    func matches(_ value: GGUFVocabulary.Entry, _ want: JSONValue) -> Bool {
        let type = want["type"]?.stringValue
        let expected = want["value"]
        switch value {
        case let .string(text): return type == "string" && expected?.stringValue == text
        case let .uint32(number): return type == "uint32" && expected?.intValue == Int(number)
        case let .int32(number): return type == "int32" && expected?.intValue == Int(number)
        case let .bool(flag): return type == "bool" && expected?.boolValue == flag
        case let .stringArray(texts):
            return type == "stringArray" && expected?.arrayValue?.map(\.stringValue) == texts
        case let .float32Array(numbers):
            return type == "float32Array" && expected?.arrayValue?.map { $0.doubleValue.map(Float.init) } == numbers
        case let .int32Array(numbers):
            return type == "int32Array" && expected?.arrayValue?.map { $0.intValue.map(Int32.init) } == numbers
        case let .uint8Array(bytes):
            return type == "uint8Array" && expected?["length"]?.intValue == bytes.count
                && expected?["crc32"]?.intValue == Int(bytes.withUnsafeBytes { CRC32.checksum($0) })
        }
    }

    /// Pieces keep their ids; the rest are [PAD<id>] fillers; user-defined pieces become NORMAL.
    @Test func paddingAndTokenTypes() throws {
        let model = try SentencePieceModel.read(Fixtures.url("spm/kinds.model"))
        let vocabulary = try GGUFVocabulary(model: model, vocabularySize: 342, specialTokens: .t5(model))
        #expect(vocabulary.tokens.suffix(2) == ["[PAD340]", "[PAD341]"])
        #expect(vocabulary.scores.suffix(2) == [-10_000, -10_000])
        #expect(vocabulary.tokenTypes.suffix(3) == [.unused, .unused, .unused])
        let separator = try #require(model.pieces.firstIndex { $0.kind == .userDefined })
        #expect(vocabulary.tokenTypes[separator] == .normal)
        #expect(vocabulary.tokenTypes.filter { $0 == .byte }.count == 256)
        #expect(vocabulary.specialTokens == .init(eos: 1, unk: 2, pad: 0, addEOS: true, addSEP: false))
    }

    @Test func refusesMorePiecesThanTheVocabularySize() throws {
        let model = try SentencePieceModel.read(Fixtures.url("spm/spiece.model"))
        #expect(
            throws: GGUFVocabularyError.morePiecesThanVocabulary(path: model.path, pieces: 100, vocabularySize: 99)
        ) { try GGUFVocabulary(model: model, vocabularySize: 99, specialTokens: .t5(model)) }
    }

    @Test func refusesModelsOtherThanUnigram() throws {
        // Pieces <unk> (UNKNOWN), <s>, </s> (NORMAL); trainer_spec { model_type: BPE }.
        let bytes: [UInt8] =
            [0x0A, 0x09, 0x0A, 0x05] + Array("<unk>".utf8) + [0x18, 0x02]
            + [0x0A, 0x05, 0x0A, 0x03] + Array("<s>".utf8)
            + [0x0A, 0x06, 0x0A, 0x04] + Array("</s>".utf8) + [0x12, 0x02, 0x18, 0x02]
        let model = try bytes.withUnsafeBytes { try SentencePieceModel(decoding: $0, path: "bpe.model") }
        #expect(model.modelType == .bpe)
        #expect(throws: GGUFVocabularyError.notUnigram(path: "bpe.model", modelType: "BPE")) {
            try GGUFVocabulary(model: model, vocabularySize: 8, specialTokens: .init())
        }
    }

    /// SpecialVocab skips ids that are not tokens; so does GGUFVocabulary.
    @Test func specialIDsOutsideTheVocabularyAreDropped() throws {
        let model = try SentencePieceModel.read(Fixtures.url("spm/spiece.model"))
        let vocabulary = try GGUFVocabulary(
            model: model, vocabularySize: 128, specialTokens: .init(bos: 128, eos: 1, addBOS: true))
        #expect(vocabulary.specialTokens == .init(eos: 1, addBOS: true))
        #expect(!vocabulary.metadata.contains { $0.key == GGUFVocabulary.Key.bosID })
    }
}
