/// Why a SentencePiece model cannot become a T5 GGUF vocabulary.
public enum GGUFVocabularyError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Only Unigram models become llama.cpp's `t5` tokenizer.
    case notUnigram(path: String, modelType: String)
    /// The tokenizer has more pieces than the model has embedding rows.
    case morePiecesThanVocabulary(path: String, pieces: Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case let .notUnigram(path, modelType):
            "\(path): a \(modelType) SentencePiece model; llama.cpp's T5 tokenizer (tokenizer.ggml.model t5) "
                + "is a Unigram model"
        case let .morePiecesThanVocabulary(path, pieces, vocabularySize):
            "\(path): the tokenizer has \(pieces) pieces but the model's vocab_size is \(vocabularySize); "
                + "every piece needs an embedding row"
        }
    }
}
