import Formats

/// The tokenizer a T5 GGUF file carries: what llama.cpp's converter (`convert_hf_to_gguf.py`,
/// `T5Model.set_vocab`, with gguf-py's `SpecialVocab`) writes for a SentencePiece Unigram model.
///
/// The vocabulary has exactly `vocabularySize` tokens (the embedding's rows, config.json's
/// `vocab_size`): piece `i` is token `i`, and the ids past the last piece (T5's `<extra_id_N>`
/// rows, which transformers adds on top of `spiece.model`) are filled as the converter fills them,
/// `[PAD<id>]` with score -10000 and type UNUSED. `metadata` is the whole list of GGUF key-values.
public struct GGUFVocabulary: Sendable {
    /// llama.cpp's token types (gguf-py `TokenType`, `llama_token_type`).
    public enum TokenType: Int32, Sendable {
        case normal = 1
        case unknown = 2
        case control = 3
        case userDefined = 4
        case unused = 5
        case byte = 6

        /// The type `set_vocab` gives a piece: it asks SentencePiece IsUnknown, IsControl,
        /// IsUnused, IsByte in turn and otherwise says NORMAL, so a USER_DEFINED piece is NORMAL.
        init(_ kind: SentencePieceModel.PieceKind) {
            switch kind {
            case .unknown: self = .unknown
            case .control: self = .control
            case .unused: self = .unused
            case .byte: self = .byte
            case .normal, .userDefined: self = .normal
            }
        }
    }

    /// A GGUF metadata value, of the few GGUF types a tokenizer uses.
    ///
    /// The GGUF type of each case (gguf-py `GGUFValueType`), for mapping onto the writer's value
    /// type in one switch: `string` STRING (8); `uint32` UINT32 (4); `int32` INT32 (5); `bool` BOOL
    /// (7); the arrays are ARRAY (9) of STRING, FLOAT32 (6), INT32 and UINT8 (0) elements. Strings
    /// are written as their UTF-8 bytes.
    public enum Entry: Equatable, Sendable {
        case string(String)
        case uint32(UInt32)
        case int32(Int32)
        case bool(Bool)
        case stringArray([String])
        case float32Array([Float])
        case int32Array([Int32])
        case uint8Array([UInt8])
    }

    /// Which special tokens the file names and whether llama.cpp adds them around a text.
    ///
    /// gguf-py's `SpecialVocab` does not read these from `spiece.model` but from the model
    /// directory's `tokenizer.json` and `tokenizer_config.json` (token names looked up among
    /// tokenizer.json's added tokens, add flags from its post-processor template) and then
    /// `config.json`'s `*_token_id`; a `nil` is a key it does not write. `t5(_:)` gives what it
    /// finds in the files transformers writes for a T5 tokenizer.
    public struct SpecialTokens: Equatable, Sendable {
        public var bos: UInt32?
        public var eos: UInt32?
        public var unk: UInt32?
        public var sep: UInt32?
        public var pad: UInt32?
        public var addBOS: Bool?
        public var addEOS: Bool?
        public var addSEP: Bool?

        public init(
            bos: UInt32? = nil, eos: UInt32? = nil, unk: UInt32? = nil, sep: UInt32? = nil, pad: UInt32? = nil,
            addBOS: Bool? = nil, addEOS: Bool? = nil, addSEP: Bool? = nil
        ) {
            self.bos = bos
            self.eos = eos
            self.unk = unk
            self.sep = sep
            self.pad = pad
            self.addBOS = addBOS
            self.addEOS = addEOS
            self.addSEP = addSEP
        }

        /// What `SpecialVocab` reads from a T5 repository's tokenizer files (transformers'
        /// `T5Tokenizer`/`T5TokenizerFast` for this `spiece.model`): the eos, unk and pad tokens at
        /// the model's ids (T5 tokenizers name no bos token), `add_eos_token` true and
        /// `add_sep_token` false from the post-processor's `$A </s>` / `$A </s> $B </s>` templates.
        ///
        /// A directory with only `config.json` gets just its `eos_token_id` and `pad_token_id`
        /// and no add flags; build that with `init` instead.
        public static func t5(_ model: SentencePieceModel) -> SpecialTokens {
            func id(_ value: Int) -> UInt32? { UInt32(exactly: value) }
            return SpecialTokens(
                eos: id(model.eosID), unk: id(model.unkID), pad: id(model.padID), addEOS: true, addSEP: false)
        }

        /// Drops ids that are not tokens of a `count`-token vocabulary, as `SpecialVocab` does
        /// (it logs "out of range ... skipping" and writes nothing for them).
        func limited(to count: Int) -> SpecialTokens {
            func keep(_ id: UInt32?) -> UInt32? { id.flatMap { Int($0) < count ? $0 : nil } }
            var copy = self
            (copy.bos, copy.eos, copy.unk, copy.sep, copy.pad) = (keep(bos), keep(eos), keep(unk), keep(sep), keep(pad))
            return copy
        }
    }

    /// Token `i`'s text.
    public let tokens: [String]
    /// Token `i`'s score (the piece's log probability for a Unigram model).
    public let scores: [Float]
    public let tokenTypes: [TokenType]
    /// The normalizer's `add_dummy_prefix`.
    public let addSpacePrefix: Bool
    public let removeExtraWhitespaces: Bool
    /// Empty when the model has none; the key is then left out.
    public let precompiledCharsmap: [UInt8]
    /// The special tokens as written: those given, less ids outside the vocabulary.
    public let specialTokens: SpecialTokens

    /// The text, score and type of the ids past the tokenizer's last piece.
    static func padding(id: Int) -> (text: String, score: Float, type: TokenType) {
        ("[PAD\(id)]", -10_000, .unused)
    }

    /// The vocabulary of a `vocabularySize`-token T5 for `model`.
    ///
    /// - Parameters:
    ///   - model: A Unigram SentencePiece model (T5's `spiece.model`).
    ///   - vocabularySize: The model's `vocab_size` (the embedding's rows); at least the number
    ///     of pieces.
    ///   - specialTokens: What the GGUF names as special tokens (`SpecialTokens.t5(model)` for a
    ///     T5 repository with its tokenizer files).
    /// - Throws: `GGUFVocabularyError` if the model is not Unigram or has more pieces than
    ///   `vocabularySize`.
    public init(
        model: SentencePieceModel, vocabularySize: Int, specialTokens: SpecialTokens
    ) throws(GGUFVocabularyError) {
        // The converter sends BPE models (Pile-T5) down its llama-style SentencePiece path, with a
        // different tokenizer model, and asserts every other type away.
        guard model.modelType == .unigram else {
            throw .notUnigram(path: model.path, modelType: "\(model.modelType)".uppercased())
        }
        // The converter indexes a vocab_size-long list by piece id, so more pieces than that is
        // an IndexError there; a GGUF with more tokens than embedding rows would be unusable.
        guard model.pieces.count <= vocabularySize else {
            throw .morePiecesThanVocabulary(
                path: model.path, pieces: model.pieces.count, vocabularySize: vocabularySize)
        }
        let padding = (model.pieces.count..<vocabularySize).map(Self.padding(id:))
        tokens = model.pieces.map(\.text) + padding.map(\.text)
        scores = model.pieces.map(\.score) + padding.map(\.score)
        tokenTypes = model.pieces.map { TokenType($0.kind) } + padding.map(\.type)
        addSpacePrefix = model.normalizer.addDummyPrefix
        removeExtraWhitespaces = model.normalizer.removeExtraWhitespaces
        precompiledCharsmap = model.normalizer.precompiledCharsmap
        self.specialTokens = specialTokens.limited(to: vocabularySize)
    }
}
