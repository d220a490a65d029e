import Convert
import Formats

extension TensorPairing {
    /// Compares two T5 checkpoints parameter by parameter, each read under its own names and in
    /// its own layout (`T5Naming`): how `zoo verify` checks a Mesh-TF checkpoint against a
    /// transformers one without renaming or rewriting either.
    ///
    /// A weight stored transposed on one side only is transposed in memory (one tensor at a time)
    /// before the comparison, so equal values compare bit for bit. Mesh-TF training state
    /// (Adafactor `*_slot_*` variables, `global_step`) is not part of the model and is not listed;
    /// any other tensor that is no parameter of `config` is reported as missing or extra.
    init(parametersOf converted: Checkpoint, against source: Checkpoint, config: T5Config) {
        let convertedNaming = T5Naming.of(converted)
        let sourceNaming = T5Naming.of(source)
        let convertedByName = Self.byName(converted)
        let sourceByName = Self.byName(source)
        var claimedConverted = Set<String>()
        var claimedSource = Set<String>()
        var pairs: [Pair] = []
        var missing: [String] = []
        let parameters =
            T5Parameter.all(config) + T5Parameter.Stack.allCases.map { T5Parameter.inputEmbedding($0) }
        for parameter in parameters {
            let mine = convertedNaming.location(of: parameter) { convertedByName[$0] != nil }
            let theirs = sourceNaming.location(of: parameter) { sourceByName[$0] != nil }
            claimedConverted.insert(mine.name)
            claimedSource.insert(theirs.name)
            guard let expected = sourceByName[theirs.name] else { continue }  // reported below as extra
            guard let actual = convertedByName[mine.name] else {
                missing.append(theirs.name)
                continue
            }
            // A stack embedding that is the shared one on both sides is compared once, as that.
            if case .inputEmbedding = parameter, mine.name == Self.sharedName(convertedNaming),
                theirs.name == Self.sharedName(sourceNaming)
            {
                continue
            }
            pairs.append(
                Pair(
                    actual: actual, expected: expected, transposeActual: mine.transposed && !theirs.transposed,
                    transposeExpected: theirs.transposed && !mine.transposed))
        }
        // A zoo GGUF of a tied model carries the head llama.cpp needs, the embedding times
        // d_model^-0.5: compared with the source's embedding scaled here, on its own.
        if config.tieWordEmbeddings, convertedNaming == .gguf,
            let head = convertedByName[T5Naming.ggufDerivedHead],
            let embedding = sourceByName[sourceNaming.location(of: .sharedEmbedding, has: { _ in true }).name]
        {
            claimedConverted.insert(head.name)
            pairs.append(Pair(actual: head, expected: embedding, expectedScale: Self.tiedHeadScale(config)))
        }
        // transformers' tied names for the shared embedding (and a tied head) are that tensor again;
        // a GGUF source's derived head is dropped with the tie it stands for.
        let tiedAliases = Set(
            TiedEmbeddings.embeddingAliases + (config.tieWordEmbeddings ? [TiedEmbeddings.lmHead] : []))
        let extra = converted.tensors.map(\.name).filter {
            !claimedConverted.contains($0) && !(convertedNaming == .transformers && tiedAliases.contains($0))
        }
        missing += source.tensors.map(\.name).filter {
            !claimedSource.contains($0) && !Self.isTrainingState($0, naming: sourceNaming)
                && !(sourceNaming == .transformers && tiedAliases.contains($0))
                && !(sourceNaming == .gguf && config.tieWordEmbeddings && $0 == T5Naming.ggufDerivedHead)
        }
        self.init(pairs: pairs, missing: missing, extra: extra)
    }

    /// transformers' factor on the decoder output before a tied head, computed here from the
    /// config rather than taken from the file's `zoo.tied_head_scale` or the plan.
    private static func tiedHeadScale(_ config: T5Config) -> Float {
        Float(1 / Double(config.dModel).squareRoot())
    }

    /// Mesh-TF variables that are optimizer or training state, not weights of the model.
    private static func isTrainingState(_ name: String, naming: T5Naming) -> Bool {
        naming == .meshTF
            && (name == "global_step" || name.hasSuffix("_slot_v") || name.hasSuffix("_slot_vr")
                || name.hasSuffix("_slot_vc") || name.hasSuffix("_slot_m"))
    }

    /// The shared embedding's name under `naming`.
    private static func sharedName(_ naming: T5Naming) -> String {
        naming.location(of: .sharedEmbedding, has: { _ in true }).name
    }

    private static func byName(_ checkpoint: Checkpoint) -> [String: TensorRef] {
        Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

extension CheckpointComparison {
    /// A 2-D tensor's transpose, in anonymous memory (1-D tensors are returned as they are).
    ///
    /// Written here rather than calling the conversion's transpose kernel (`CZooKernels_gatherColumns`,
    /// behind `TransposingTensor`) on purpose: a fault in that kernel must not be repeated on the
    /// side that checks it.
    static func transposed(_ tensor: TensorRef) throws -> TensorRef {
        guard tensor.shape.count == 2,
            let spec = TensorSpec(
                name: tensor.name, dtype: tensor.dtype, shape: [tensor.shape[1], tensor.shape[0]])
        else { return tensor }
        let (rows, columns, size) = (tensor.shape[0], tensor.shape[1], tensor.dtype.byteSize)
        let file = try AnonymousStorage(name: "\(tensor.name) (transposed)", byteCount: spec.byteCount) { target in
            tensor.file.withBytesOnce(in: tensor.byteRange) { bytes in
                for row in 0..<rows {
                    for column in 0..<columns {
                        let from = (row * columns + column) * size
                        let to = (column * rows + row) * size
                        for byte in 0..<size { target[to + byte] = bytes[from + byte] }
                    }
                }
            }
        }
        return TensorRef(spec: spec, file: file, fileOffset: 0)
    }
}
