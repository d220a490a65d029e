import Foundation

/// A SentencePiece tokenizer model (`spiece.model`, `tokenizer.model`): its pieces and the trainer
/// and normalizer settings that decide how text becomes those pieces.
///
/// Only what a converter carries into another format is read (see `Protos/sentencepiece_model.proto`);
/// training options and other fields are skipped. Every piece is checked: text valid UTF-8 and not
/// empty, a type SentencePiece defines, special ids naming real pieces.
public struct SentencePieceModel: Equatable, Sendable {
    /// SentencePiece's piece types, numbered as `ModelProto.SentencePiece.Type`.
    public enum PieceKind: Int32, Sendable, CaseIterable {
        case normal = 1
        case unknown = 2
        case control = 3
        case userDefined = 4
        case unused = 5
        /// One of the `<0x00>` ... `<0xFF>` pieces of a byte-fallback model.
        case byte = 6
    }

    /// The segmentation algorithm, numbered as `TrainerSpec.ModelType`.
    public enum ModelType: Int32, Sendable, CaseIterable {
        case unigram = 1
        case bpe = 2
        case word = 3
        case char = 4
    }

    public struct Piece: Equatable, Sendable {
        public var text: String
        public var score: Float
        public var kind: PieceKind

        public init(text: String, score: Float, kind: PieceKind) {
            self.text = text
            self.score = score
            self.kind = kind
        }
    }

    /// How text is normalized before it is segmented (`NormalizerSpec`).
    public struct Normalizer: Equatable, Sendable {
        /// The rule's name (`nmt_nfkc`, `identity`, ...), for messages only.
        public var name: String
        /// The compiled normalization rule (a double-array trie and its replacement strings);
        /// empty for the identity rule.
        public var precompiledCharsmap: [UInt8]
        /// Whether a space is put before the text, so a word at the start of a text is segmented
        /// as it is after a space.
        public var addDummyPrefix: Bool
        public var removeExtraWhitespaces: Bool
        /// Whether spaces become U+2581 (`▁`) before segmentation.
        public var escapeWhitespaces: Bool
    }

    /// The file's largest accepted size. T5's `spiece.model` is 792 kB and the largest common
    /// SentencePiece models (250k-piece multilingual ones) under 20 MB; anything past this is not a
    /// tokenizer, and protobuf-c would allocate for it all.
    public static let maximumFileSize = 64 << 20

    /// The path the model was read from, for messages.
    public let path: String
    /// The pieces, in id order: piece `i` is token id `i`.
    public let pieces: [Piece]
    public let modelType: ModelType
    /// Whether unknown characters are spelled as `<0xXX>` byte pieces instead of `<unk>`.
    public let byteFallback: Bool
    /// The unknown piece's id, or -1 for none.
    public let unkID: Int
    /// The beginning-of-sentence piece's id, or -1 for none (T5 has none).
    public let bosID: Int
    /// The end-of-sentence piece's id, or -1 for none.
    public let eosID: Int
    /// The padding piece's id, or -1 for none.
    public let padID: Int
    public let normalizer: Normalizer

    /// Reads and checks the model at `url`.
    ///
    /// - Throws: `CheckpointError` if the file cannot be opened or is not a regular file,
    ///   `SentencePieceError` if it is too large, does not decode, or fails a check.
    public static func read(_ url: URL) throws -> SentencePieceModel {
        let file = try MappedFile(path: url.path)
        guard file.size <= maximumFileSize else {
            throw SentencePieceError.fileTooLarge(path: file.path, size: file.size, limit: maximumFileSize)
        }
        return try file.withBytes(in: 0..<file.size) { bytes throws(SentencePieceError) in
            try SentencePieceModel(decoding: bytes, path: file.path)
        }
    }

    /// Decodes and checks the serialized `ModelProto` in `bytes`; `path` names it in errors.
    init(decoding bytes: UnsafeRawBufferPointer, path: String) throws(SentencePieceError) {
        guard let decoded = SentencePieceProtos.decode(bytes) else {
            throw .notAModelProto(path: path, size: bytes.count)
        }
        try self.init(checking: decoded, path: path)
    }

    private init(checking decoded: DecodedSentencePieceModel, path: String) throws(SentencePieceError) {
        guard !decoded.pieces.isEmpty else { throw .noPieces(path: path) }
        var pieces: [Piece] = []
        pieces.reserveCapacity(decoded.pieces.count)
        for (index, piece) in decoded.pieces.enumerated() {
            guard !piece.bytes.isEmpty else { throw .emptyPiece(path: path, piece: index) }
            guard let text = String(validating: piece.bytes, as: UTF8.self) else {
                throw .invalidUTF8(path: path, piece: index)
            }
            guard let kind = PieceKind(rawValue: piece.type) else {
                throw .unknownPieceType(path: path, piece: index, type: piece.type)
            }
            pieces.append(Piece(text: text, score: piece.score, kind: kind))
        }
        guard let modelType = ModelType(rawValue: decoded.modelType) else {
            throw .unknownModelType(path: path, type: decoded.modelType)
        }
        func specialID(_ field: String, _ id: Int32) throws(SentencePieceError) -> Int {
            guard id >= -1, id < pieces.count else {
                throw .specialIDOutOfRange(path: path, field: field, id: id, pieceCount: pieces.count)
            }
            return Int(id)
        }
        self.path = path
        self.pieces = pieces
        self.modelType = modelType
        byteFallback = decoded.byteFallback
        unkID = try specialID("unk_id", decoded.unkID)
        bosID = try specialID("bos_id", decoded.bosID)
        eosID = try specialID("eos_id", decoded.eosID)
        padID = try specialID("pad_id", decoded.padID)
        normalizer = Normalizer(
            name: decoded.normalizerName, precompiledCharsmap: decoded.precompiledCharsmap,
            addDummyPrefix: decoded.addDummyPrefix, removeExtraWhitespaces: decoded.removeExtraWhitespaces,
            escapeWhitespaces: decoded.escapeWhitespaces)
    }
}
