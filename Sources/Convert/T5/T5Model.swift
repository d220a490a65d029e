import Formats

/// A checkpoint read as a transformers `T5ForConditionalGeneration`: its architecture, which
/// tensors are copies of the shared embedding, and its exact parameter count.
public struct T5Model: Sendable {
    public let config: T5Config
    /// Tensors present in the checkpoint that are tied copies of `shared.weight` (checked equal).
    public let aliases: [String]
    /// Input embeddings (`encoder.embed_tokens.weight`, `decoder.embed_tokens.weight`) that are
    /// matrices of their own: transformers 5 writes them so for `tie_word_embeddings: false`.
    public let separateEmbeddings: [String]
    /// Parameters in the checkpoint's distinct tensors (tied copies counted once).
    public let parameterCount: Int

    /// Reads `checkpoint` as T5, cross-checking `config` (a parsed `config.json`) when given.
    ///
    /// - Throws: `ConvertError` if the tensors do not form a T5 model, a tied copy differs from
    ///   the shared embedding, or the config disagrees with the tensors.
    ///
    /// - Parameter tiedHead: whether the head is tied, when the format itself says so (a Mesh-TF
    ///   checkpoint has an untied head exactly when it stores `decoder/logits/kernel`); otherwise a
    ///   head equal to the embedding is taken as tied.
    /// - Parameter configPath: the file `config` was read from, named by its errors (they are
    ///   about that file, not the weights).
    public init(
        _ checkpoint: Checkpoint, config configJSON: JSONValue? = nil, configPath: String = "config.json",
        tiedHead: Bool? = nil
    ) throws(ConvertError) {
        let path = checkpoint.location.path
        let byName = Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard let shared = byName[TiedEmbeddings.canonical] else {
            throw .notT5(path: path, reason: "there is no \(TiedEmbeddings.canonical)")
        }

        let declared = try configJSON.map { json throws(ConvertError) in try T5Config(json: json, path: configPath) }
        // An input embedding equal to `shared.weight` is a tied copy. One that differs is an error,
        // unless the config unties the embeddings: transformers 5 then loads it as its own matrix.
        var aliases: [String] = []
        var separateEmbeddings: [String] = []
        for alias in TiedEmbeddings.embeddingAliases {
            guard let tensor = byName[alias] else { continue }
            if let offset = tensor.firstDifference(from: shared) {
                guard declared?.tieWordEmbeddings == false else {
                    throw .tiedTensorDiffers(
                        path: path, tensor: alias, canonical: TiedEmbeddings.canonical, byteOffset: offset)
                }
                guard tensor.shape == shared.shape else {
                    throw .shapeMismatch(path: path, tensor: alias, expected: shared.shape, actual: tensor.shape)
                }
                separateEmbeddings.append(alias)
            } else {
                aliases.append(alias)
            }
        }

        var inferred = try Self.inferConfig(byName, shared: shared, path: path)
        let lmHead = byName[TiedEmbeddings.lmHead]
        let lmHeadIsCopy = tiedHead ?? lmHead.map { $0.firstDifference(from: shared) == nil } ?? true
        // A config may declare an untied head that happens to equal the embedding; without one,
        // a head equal to the embedding is a tied copy.
        inferred.tieWordEmbeddings = declared?.tieWordEmbeddings ?? lmHeadIsCopy
        if inferred.tieWordEmbeddings && !lmHeadIsCopy, let lmHead {
            throw .tiedTensorDiffers(
                path: path, tensor: lmHead.name, canonical: TiedEmbeddings.canonical,
                byteOffset: lmHead.firstDifference(from: shared) ?? 0)
        }
        if inferred.tieWordEmbeddings && lmHead != nil { aliases.append(TiedEmbeddings.lmHead) }

        if let declared {
            try Self.crossCheck(declared: declared, inferred: inferred, path: configPath)
            inferred.relativeAttentionMaxDistance = declared.relativeAttentionMaxDistance
            inferred.layerNormEpsilon = declared.layerNormEpsilon
        }
        try Self.checkTensors(byName, against: inferred, aliases: Set(aliases + separateEmbeddings), path: path)

        config = inferred
        self.aliases = aliases
        self.separateEmbeddings = separateEmbeddings
        parameterCount = checkpoint.tensors.filter { !aliases.contains($0.name) }.reduce(0) {
            $0 + $1.spec.elementCount
        }
    }

    /// The architecture implied by the tensor shapes (tying decided by the caller).
    private static func inferConfig(_ byName: [String: TensorRef], shared: TensorRef, path: String) throws(ConvertError)
        -> T5Config
    {
        guard shared.shape.count == 2 else {
            throw .notT5(
                path: path, reason: "\(TiedEmbeddings.canonical) has shape \(shared.shape), not [vocab, d_model]")
        }
        let encoderLayers = blockCount(in: byName.keys, stack: "encoder")
        let decoderLayers = blockCount(in: byName.keys, stack: "decoder")
        guard encoderLayers > 0, decoderLayers > 0 else {
            throw .notT5(path: path, reason: "it needs encoder.block.* and decoder.block.* tensors")
        }
        let biasName = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"
        guard let bias = byName[biasName], bias.shape.count == 2, bias.shape[1] > 0 else {
            throw .notT5(path: path, reason: "no [buckets, heads] \(biasName)")
        }
        let heads = bias.shape[1]
        let queryName = "encoder.block.0.layer.0.SelfAttention.q.weight"
        guard let query = byName[queryName], query.shape.count == 2, query.shape[0] % heads == 0 else {
            throw .notT5(
                path: path, reason: "\(queryName) is missing or not [heads * d_kv, d_model] with \(heads) heads")
        }
        let gated = byName["encoder.block.0.layer.1.DenseReluDense.wi_0.weight"] != nil
        let wiName = "encoder.block.0.layer.1.DenseReluDense.\(gated ? "wi_0" : "wi").weight"
        guard let wi = byName[wiName], wi.shape.count == 2 else {
            throw .notT5(path: path, reason: "no [d_ff, d_model] \(wiName)")
        }
        return T5Config(
            vocabSize: shared.shape[0], dModel: shared.shape[1], dKV: query.shape[0] / heads, dFF: wi.shape[0],
            numHeads: heads, numLayers: encoderLayers, numDecoderLayers: decoderLayers,
            feedForward: gated ? .gatedGelu : .relu, tieWordEmbeddings: true, relativeAttentionNumBuckets: bias.shape[0]
        )
    }

    /// One more than the highest `<stack>.block.N` index (holes are caught by `checkTensors`).
    private static func blockCount(in names: some Sequence<String>, stack: String) -> Int {
        let prefix = "\(stack).block."
        var count = 0
        for name in names where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if let index = Int(rest.prefix { $0 != "." }), index >= 0, index < 100_000 { count = max(count, index + 1) }
        }
        return count
    }

    private static func checkTensors(
        _ byName: [String: TensorRef], against config: T5Config, aliases: Set<String>, path: String
    ) throws(ConvertError) {
        let expected = config.expectedTensors
        for (name, shape) in expected {
            guard let tensor = byName[name] else { throw .missingTensor(path: path, tensor: name) }
            guard tensor.shape == shape else {
                throw .shapeMismatch(path: path, tensor: name, expected: shape, actual: tensor.shape)
            }
        }
        let known = Set(expected.map(\.name)).union(aliases)
        if let stray = byName.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unexpectedTensor(path: path, tensor: stray)
        }
    }

    private static func crossCheck(declared: T5Config, inferred: T5Config, path: String) throws(ConvertError) {
        let fields: [(String, Int, Int)] = [
            ("vocab_size", declared.vocabSize, inferred.vocabSize),
            ("d_model", declared.dModel, inferred.dModel),
            ("d_kv", declared.dKV, inferred.dKV),
            ("d_ff", declared.dFF, inferred.dFF),
            ("num_heads", declared.numHeads, inferred.numHeads),
            ("num_layers", declared.numLayers, inferred.numLayers),
            ("num_decoder_layers", declared.numDecoderLayers, inferred.numDecoderLayers),
            (
                "relative_attention_num_buckets", declared.relativeAttentionNumBuckets,
                inferred.relativeAttentionNumBuckets
            ),
        ]
        for (field, fromConfig, fromTensors) in fields where fromConfig != fromTensors {
            throw .configMismatch(path: path, field: field, config: String(fromConfig), tensors: String(fromTensors))
        }
        if declared.feedForward != inferred.feedForward {
            throw .configMismatch(
                path: path, field: "feed_forward_proj", config: declared.feedForward.rawValue,
                tensors: inferred.feedForward.rawValue)
        }
    }
}
