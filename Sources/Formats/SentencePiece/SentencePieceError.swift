/// Why a SentencePiece tokenizer model (`spiece.model`) was refused.
public enum SentencePieceError: Error, CustomStringConvertible, Equatable, Sendable, CaseNamed {
    /// The file is larger than any tokenizer model zoo expects (`SentencePieceModel.maximumFileSize`).
    case fileTooLarge(path: String, size: Int, limit: Int)
    /// protobuf-c could not decode the bytes as a `ModelProto` (truncated, or not a protobuf).
    case notAModelProto(path: String, size: Int)
    case noPieces(path: String)
    case emptyPiece(path: String, piece: Int)
    case invalidUTF8(path: String, piece: Int)
    /// A piece's type is none of SentencePiece's (NORMAL 1 ... BYTE 6).
    case unknownPieceType(path: String, piece: Int, type: Int32)
    /// `trainer_spec.model_type` is none of UNIGRAM 1, BPE 2, WORD 3, CHAR 4.
    case unknownModelType(path: String, type: Int32)
    /// A special id (`unk_id`, `bos_id`, `eos_id`, `pad_id`) is neither -1 nor a piece's index.
    case specialIDOutOfRange(path: String, field: String, id: Int32, pieceCount: Int)

    public var description: String {
        switch self {
        case let .fileTooLarge(path, size, limit):
            "\(path): \(size) bytes is more than the \(limit) bytes a SentencePiece model may have"
        case let .notAModelProto(path, size):
            "\(path): not a SentencePiece model: its \(size) bytes do not decode as a ModelProto "
                + "(truncated, or not a protobuf)"
        case let .noPieces(path):
            "\(path): the SentencePiece model has no pieces"
        case let .emptyPiece(path, piece):
            "\(path): SentencePiece piece \(piece) is empty"
        case let .invalidUTF8(path, piece):
            "\(path): SentencePiece piece \(piece) is not valid UTF-8"
        case let .unknownPieceType(path, piece, type):
            "\(path): SentencePiece piece \(piece) has type \(type), which is none of NORMAL 1, UNKNOWN 2, "
                + "CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6"
        case let .unknownModelType(path, type):
            "\(path): trainer_spec.model_type is \(type), which is none of UNIGRAM 1, BPE 2, WORD 3, CHAR 4"
        case let .specialIDOutOfRange(path, field, id, pieceCount):
            "\(path): trainer_spec.\(field) is \(id), but the model's \(pieceCount) pieces have ids 0..<\(pieceCount) "
                + "(-1 means none)"
        }
    }
}
