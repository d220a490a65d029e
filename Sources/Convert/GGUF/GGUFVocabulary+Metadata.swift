extension GGUFVocabulary {
    /// The GGUF keys of a tokenizer, spelled as gguf-py's `Keys.Tokenizer` spells them.
    public enum Key {
        public static let model = "tokenizer.ggml.model"
        public static let pre = "tokenizer.ggml.pre"
        public static let tokens = "tokenizer.ggml.tokens"
        public static let scores = "tokenizer.ggml.scores"
        public static let tokenType = "tokenizer.ggml.token_type"
        public static let addSpacePrefix = "tokenizer.ggml.add_space_prefix"
        public static let removeExtraWhitespaces = "tokenizer.ggml.remove_extra_whitespaces"
        public static let precompiledCharsmap = "tokenizer.ggml.precompiled_charsmap"
        public static let bosID = "tokenizer.ggml.bos_token_id"
        public static let eosID = "tokenizer.ggml.eos_token_id"
        public static let unkID = "tokenizer.ggml.unknown_token_id"
        /// Misspelt in gguf-py, and so in every GGUF file.
        public static let sepID = "tokenizer.ggml.seperator_token_id"
        public static let padID = "tokenizer.ggml.padding_token_id"
        public static let addBOS = "tokenizer.ggml.add_bos_token"
        public static let addEOS = "tokenizer.ggml.add_eos_token"
        public static let addSEP = "tokenizer.ggml.add_sep_token"
    }

    /// The tokenizer's GGUF key-values, in the order the converter writes them.
    ///
    /// `tokenizer.ggml.model` is `t5` (llama.cpp's Unigram tokenizer) and `tokenizer.ggml.pre`
    /// `default`; the charsmap only when the model has one; special ids and add flags only for
    /// the special tokens given, ids in SpecialVocab's bos, eos, unk, sep, pad order.
    public var metadata: [(key: String, value: Entry)] {
        var entries: [(key: String, value: Entry)] = [
            (Key.model, .string("t5")),
            (Key.pre, .string("default")),
            (Key.tokens, .stringArray(tokens)),
            (Key.scores, .float32Array(scores)),
            (Key.tokenType, .int32Array(tokenTypes.map(\.rawValue))),
            (Key.addSpacePrefix, .bool(addSpacePrefix)),
            (Key.removeExtraWhitespaces, .bool(removeExtraWhitespaces)),
        ]
        // gguf-py writes no empty arrays, and the converter skips an empty charsmap itself.
        if !precompiledCharsmap.isEmpty { entries.append((Key.precompiledCharsmap, .uint8Array(precompiledCharsmap))) }
        let ids: [(String, UInt32?)] = [
            (Key.bosID, specialTokens.bos), (Key.eosID, specialTokens.eos), (Key.unkID, specialTokens.unk),
            (Key.sepID, specialTokens.sep), (Key.padID, specialTokens.pad),
        ]
        entries += ids.compactMap { key, id in id.map { (key, .uint32($0)) } }
        let flags: [(String, Bool?)] = [
            (Key.addBOS, specialTokens.addBOS), (Key.addEOS, specialTokens.addEOS), (Key.addSEP, specialTokens.addSEP),
        ]
        entries += flags.compactMap { key, flag in flag.map { (key, .bool($0)) } }
        return entries
    }
}
