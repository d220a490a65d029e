import Foundation
import TestSupport
import Testing

@testable import Formats

/// `SentencePieceModel` against what the sentencepiece package reads from the same files
/// (`Tests/Fixtures/spm/expected_vocab.json`, written by make-fixtures group M).
@Suite struct SentencePieceModelTests {
    /// The fixtures `expected_vocab.json` describes, by path under Tests/Fixtures.
    static let fixtures = ["spm/spiece.model", "spm/kinds.model", "companions/hub_snapshot/spiece.model"]

    static func expected(_ fixture: String) throws -> JSONValue {
        let data = try Data(contentsOf: Fixtures.url("spm/expected_vocab.json"))
        return try #require(try JSONParser.parse(Array(data))[fixture]?["sentencepiece"])
    }

    @Test(arguments: fixtures)
    func readsWhatSentencePieceReads(_ fixture: String) throws {
        let expected = try Self.expected(fixture)
        let model = try SentencePieceModel.read(Fixtures.url(fixture))
        let pieces = try #require(expected["pieces"]?.arrayValue)
        #expect(model.pieces.count == expected["piece_count"]?.intValue)
        #expect(model.pieces.count == pieces.count)
        for (index, (piece, want)) in zip(model.pieces, pieces).enumerated() {
            #expect(piece.text == want["text"]?.stringValue, "piece \(index)")
            #expect(piece.score == want["score"]?.doubleValue.map(Float.init), "piece \(index)")
            #expect(piece.kind.rawValue == want["kind"]?.intValue.map(Int32.init), "piece \(index)")
        }
        #expect(model.modelType.rawValue == expected["model_type"]?.intValue.map(Int32.init))
        #expect(model.byteFallback == expected["byte_fallback"]?.boolValue)
        #expect(model.unkID == expected["unk_id"]?.intValue)
        #expect(model.bosID == expected["bos_id"]?.intValue)
        #expect(model.eosID == expected["eos_id"]?.intValue)
        #expect(model.padID == expected["pad_id"]?.intValue)
        #expect(model.normalizer.name == expected["normalizer_name"]?.stringValue)
        #expect(model.normalizer.addDummyPrefix == expected["add_dummy_prefix"]?.boolValue)
        #expect(model.normalizer.removeExtraWhitespaces == expected["remove_extra_whitespaces"]?.boolValue)
        #expect(model.normalizer.escapeWhitespaces == expected["escape_whitespaces"]?.boolValue)
        let charsmap = model.normalizer.precompiledCharsmap
        #expect(charsmap.count == expected["precompiled_charsmap"]?["length"]?.intValue)
        #expect(
            Int(charsmap.withUnsafeBytes { CRC32.checksum($0) })
                == expected["precompiled_charsmap"]?["crc32"]?.intValue)
    }

    /// The T5-like fixture as T5's own spiece.model is laid out, spelled out once by hand.
    @Test func t5LayoutOfTheTrainedFixture() throws {
        let model = try SentencePieceModel.read(Fixtures.url("spm/spiece.model"))
        #expect(model.pieces.count == 100)
        #expect(model.pieces.prefix(3).map(\.text) == ["<pad>", "</s>", "<unk>"])
        #expect(model.pieces.prefix(3).map(\.kind) == [.control, .control, .unknown])
        #expect(model.pieces.dropFirst(3).allSatisfy { $0.kind == .normal && $0.score < 0 })
        #expect((model.padID, model.eosID, model.unkID, model.bosID) == (0, 1, 2, -1))
        #expect(model.modelType == .unigram && model.normalizer.name == "nmt_nfkc")
    }

    /// Every SentencePiece piece type, read from the fixture trained to hold them all.
    @Test func everyPieceKind() throws {
        let model = try SentencePieceModel.read(Fixtures.url("spm/kinds.model"))
        #expect(Set(model.pieces.map(\.kind)) == Set(SentencePieceModel.PieceKind.allCases))
        #expect(model.pieces.filter { $0.kind == .byte }.count == 256)
        #expect(model.pieces.first { $0.kind == .userDefined }?.text == "<sep>")
        #expect(model.pieces.last?.kind == .unused)
        #expect(model.byteFallback && model.bosID == 3)
    }

    /// Each file of the corpus is refused with the error its manifest names, naming the file.
    @Test(arguments: try Fixtures.manifest("spm_bad"))
    func rejectsHostileModel(_ entry: (file: String, error: String)) throws {
        let url = Fixtures.url("spm_bad/\(entry.file)")
        do {
            let model = try SentencePieceModel.read(url)
            Issue.record("\(entry.file) was read: \(model.pieces.count) pieces")
        } catch let error as SentencePieceError {
            #expect(error.caseName == entry.error, "\(entry.file): \(error)")
            #expect(error.description.contains(url.path), "\(entry.file): \(error)")
        }
    }

    /// The errors of a piece or a field say which one.
    @Test func errorsNameThePieceAndTheField() throws {
        let pieceType = Fixtures.url("spm_bad/piece_type_out_of_range.model")
        #expect(throws: SentencePieceError.unknownPieceType(path: pieceType.path, piece: 4, type: 7)) {
            try SentencePieceModel.read(pieceType)
        }
        let specialID = Fixtures.url("spm_bad/special_id_out_of_range.model")
        #expect(
            throws: SentencePieceError.specialIDOutOfRange(
                path: specialID.path, field: "eos_id", id: 150, pieceCount: 4)
        ) { try SentencePieceModel.read(specialID) }
    }

    /// Fields a file leaves out read as sentencepiece_model.proto's defaults, whether their
    /// message is absent or present and empty (then protobuf-c fills in the defaults).
    @Test(arguments: [false, true])
    func absentFieldsReadAsTheProtoDefaults(emptySpecs: Bool) throws {
        // Three pieces ("a", "b", "c"; no score, no type), so the default ids 0, 1, 2 are pieces.
        var bytes: [UInt8] = [0x61, 0x62, 0x63].flatMap { [0x0A, 0x03, 0x0A, 0x01, $0] }
        if emptySpecs { bytes += [0x12, 0x00, 0x1A, 0x00] }  // trainer_spec {}, normalizer_spec {}
        let model = try bytes.withUnsafeBytes { try SentencePieceModel(decoding: $0, path: "minimal") }
        #expect(model.pieces == ["a", "b", "c"].map { .init(text: $0, score: 0, kind: .normal) })
        #expect((model.unkID, model.bosID, model.eosID, model.padID) == (0, 1, 2, -1))
        #expect(model.modelType == .unigram && !model.byteFallback)
        #expect(model.normalizer.addDummyPrefix && model.normalizer.removeExtraWhitespaces)
        #expect(model.normalizer.escapeWhitespaces && model.normalizer.precompiledCharsmap.isEmpty)
    }

    @Test func refusesFilesPastTheSizeLimit() throws {
        let directory = TemporaryDirectory()
        let url = directory.path("huge.model")
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        // Sparse: no bytes are written, the size is all that is checked.
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(SentencePieceModel.maximumFileSize + 1))
        try handle.close()
        #expect(
            throws: SentencePieceError.fileTooLarge(
                path: url.path, size: SentencePieceModel.maximumFileSize + 1, limit: SentencePieceModel.maximumFileSize)
        ) { try SentencePieceModel.read(url) }
    }

    @Test func emptyAndMissingFiles() throws {
        let directory = TemporaryDirectory()
        let empty = directory.path("empty.model")
        #expect(FileManager.default.createFile(atPath: empty.path, contents: Data()))
        #expect(throws: SentencePieceError.noPieces(path: empty.path)) { try SentencePieceModel.read(empty) }
        let missing = directory.path("missing.model")
        #expect(throws: CheckpointError.io(path: missing.path, operation: "open", errno: ENOENT)) {
            try SentencePieceModel.read(missing)
        }
    }
}
