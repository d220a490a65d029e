import Formats

/// A GGUF file of llama.cpp's `t5` architecture read as the transformers model it holds: each
/// tensor under its transformers name (`GGUFT5Mapping`), the hyper-parameters of the `t5.*` keys
/// checked against the tensors.
///
/// GGUF T5 weights are stored in transformers' row-major orientation, so nothing is transposed;
/// a Q8_0 tensor is dequantized when it is written in another format.
public struct GGUFT5Layout: Sendable {
    /// One tensor of the file and its transformers name.
    public struct MappedTensor: Sendable {
        public let source: TensorRef
        public let name: String
    }

    /// The model's tensors, in file order, under transformers names.
    public let tensors: [MappedTensor]
    /// `output.weight` when it is zoo's rescaled copy of the tied embedding
    /// (`GGUFT5Metadata.Key.tiedHeadScale`): not a parameter of the model, which is tied.
    public let derivedHead: TensorRef?
    /// The factor `derivedHead` is the embedding times.
    public let tiedHeadScale: Float?
    /// The epsilon the file declares, if it declares one.
    let layerNormEpsilon: Double?
    /// The context length and decoder start token the file declares (llama.cpp's defaults if not).
    public let sourceConfig: GGUFT5Metadata.SourceConfig
    /// The file's `tokenizer.*` key-values, in file order: a GGUF output of it carries them.
    public let tokenizerEntries: [(key: String, value: GGUFValue)]
    private let file: GGUFFile

    /// Maps `checkpoint`'s tensors (`file` is its parsed header).
    ///
    /// - Throws: `ConvertError.notT5` for another architecture, `.unsupportedVariant` for an
    ///   encoder-only `t5encoder` file, `.unmappedTensor` for a tensor llama.cpp's T5 does not have.
    public init(_ checkpoint: Checkpoint, file: GGUFFile) throws(ConvertError) {
        let path = checkpoint.location.path
        guard case let .string(architecture)? = file.value(forKey: GGUFT5Metadata.Key.architecture) else {
            throw .notT5(path: path, reason: "it has no \(GGUFT5Metadata.Key.architecture)")
        }
        if architecture == GGUFT5Metadata.encoderOnlyArchitecture {
            throw .unsupportedVariant(
                path: path, variant: "encoder-only T5 (\(architecture))",
                reason: "zoo converts and checks encoder-decoder models, and this file has no decoder")
        }
        guard architecture == GGUFT5Metadata.architecture else {
            throw .notT5(path: path, reason: "its architecture is \"\(architecture)\", not \"t5\"")
        }
        let gated = checkpoint.tensors.contains { $0.name.hasSuffix(".ffn_gate.weight") }
        var scale: Float?
        if case let .float32(value)? = file.value(forKey: GGUFT5Metadata.Key.tiedHeadScale), value.isFinite,
            value > 0
        {
            scale = value
        }
        var tensors: [MappedTensor] = []
        var derivedHead: TensorRef?
        for tensor in checkpoint.tensors {
            if scale != nil, tensor.name == "output.weight" {
                derivedHead = tensor
                continue
            }
            guard
                let name = GGUFT5Mapping.transformersName(forGGUF: tensor.name, feedForward: gated ? .gatedGelu : .relu)
            else {
                throw .unmappedTensor(path: path, tensor: tensor.name)
            }
            tensors.append(MappedTensor(source: tensor, name: name))
        }
        self.tensors = tensors
        self.derivedHead = derivedHead
        tiedHeadScale = derivedHead == nil ? nil : scale
        layerNormEpsilon = GGUFT5Metadata.layerNormEpsilon(in: file)
        sourceConfig = GGUFT5Metadata.SourceConfig(file)
        tokenizerEntries = file.metadata.filter { $0.key.hasPrefix("tokenizer.") }
        self.file = file
    }

    /// Whether the head is tied: no `output.weight`, or only zoo's rescaled copy of the embedding.
    var tiedHead: Bool { !tensors.contains { $0.name == TiedEmbeddings.lmHead } }

    /// The mapped tensors under their transformers names (bytes as stored), for reading the model.
    func architectureView(of checkpoint: Checkpoint) -> Checkpoint {
        Checkpoint(
            format: checkpoint.format, location: checkpoint.location, directory: checkpoint.directory,
            files: checkpoint.files, tensors: tensors.map { $0.source.renamed($0.name) }, metadata: [:])
    }

    /// The model the tensors form, with the file's epsilon, after checking every `t5.*` size and
    /// the vocabulary against them.
    ///
    /// - Throws: `ConvertError.configMismatch` naming the GGUF key that disagrees, or what
    ///   `T5Model` throws for tensors that do not form a T5 model.
    func model(of checkpoint: Checkpoint) throws(ConvertError) -> T5Model {
        let view = architectureView(of: checkpoint)
        let model = try T5Model(view, tiedHead: tiedHead)
        let path = checkpoint.location.path
        var tokenCount: Int?
        if case let .array(tokens)? = file.value(forKey: GGUFVocabulary.Key.tokens) { tokenCount = tokens.count }
        for size in GGUFT5Metadata.declaredSizes(in: file, against: model.config, tokenCount: tokenCount) {
            if let declared = size.declared, declared != size.inferred {
                throw .metadataMismatch(
                    path: path, key: size.key, declared: String(declared), tensors: String(size.inferred))
            }
        }
        if let derivedHead {
            let embedding = model.config.vocabSize
            guard derivedHead.shape == [embedding, model.config.dModel] else {
                throw .shapeMismatch(
                    path: path, tensor: derivedHead.name, expected: [embedding, model.config.dModel],
                    actual: derivedHead.shape)
            }
        }
        guard let layerNormEpsilon, layerNormEpsilon != model.config.layerNormEpsilon else { return model }
        var config = model.config
        config.layerNormEpsilon = layerNormEpsilon
        return try T5Model(
            view, config: config.configJSON(torchDType: "float32"), configPath: path, tiedHead: tiedHead)
    }
}
