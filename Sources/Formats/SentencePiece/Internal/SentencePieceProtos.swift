internal import CSentencePieceProto

/// A `ModelProto` as protobuf-c decoded it: raw numbers and bytes, nothing checked yet beyond the
/// wire format. `SentencePieceModel` validates it.
struct DecodedSentencePieceModel {
    struct Piece {
        var bytes: [UInt8]
        var score: Float
        var type: Int32
    }

    var pieces: [Piece] = []
    var modelType: Int32 = 1
    var byteFallback = false
    var unkID: Int32 = 0
    var bosID: Int32 = 1
    var eosID: Int32 = 2
    var padID: Int32 = -1
    var normalizerName = ""
    var precompiledCharsmap: [UInt8] = []
    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true
}

/// The one place that calls protobuf-c for `spiece.model` files. protobuf-c checks lengths and wire
/// types and keeps fields it does not know aside; bytes it cannot parse give `nil`.
enum SentencePieceProtos {
    static func decode(_ bytes: UnsafeRawBufferPointer) -> DecodedSentencePieceModel? {
        // An empty buffer is an empty message (no pieces), which the model's checks then refuse.
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return DecodedSentencePieceModel()
        }
        guard let message = sentencepiece__model_proto__unpack(nil, bytes.count, base) else { return nil }
        defer { sentencepiece__model_proto__free_unpacked(message, nil) }
        let model = message.pointee
        var decoded = DecodedSentencePieceModel()
        decoded.pieces.reserveCapacity(model.n_pieces)
        for index in 0..<model.n_pieces {
            guard let piece = model.pieces[index]?.pointee else { return nil }
            decoded.pieces.append(
                .init(
                    bytes: array(piece.piece), score: piece.score,
                    // protobuf-c keeps an enum as the raw 32 bits of its varint, unchecked; the
                    // model refuses values outside the enum.
                    type: Int32(bitPattern: piece.type.rawValue)))
        }
        // Absent messages read as their fields' defaults, as in every protobuf runtime; unpack
        // fills absent optional fields of a present message with the proto's defaults.
        if let trainer = model.trainer_spec?.pointee {
            decoded.modelType = Int32(bitPattern: trainer.model_type.rawValue)
            decoded.byteFallback = trainer.byte_fallback != 0
            decoded.unkID = trainer.unk_id
            decoded.bosID = trainer.bos_id
            decoded.eosID = trainer.eos_id
            decoded.padID = trainer.pad_id
        }
        if let normalizer = model.normalizer_spec?.pointee {
            decoded.normalizerName = normalizer.name.map { String(cString: $0) } ?? ""
            decoded.precompiledCharsmap = array(normalizer.precompiled_charsmap)
            decoded.addDummyPrefix = normalizer.add_dummy_prefix != 0
            decoded.removeExtraWhitespaces = normalizer.remove_extra_whitespaces != 0
            decoded.escapeWhitespaces = normalizer.escape_whitespaces != 0
        }
        return decoded
    }

    private static func array(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard let start = data.data, data.len > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: data.len))
    }
}
