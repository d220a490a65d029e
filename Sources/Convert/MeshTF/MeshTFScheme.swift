import Formats
import Foundation

/// Mesh-TF TensorFlow outputs: a directory holding `model.ckpt.data-0000K-of-0000N` shards
/// (variables in key order), `model.ckpt.index`, the `checkpoint` file and `operative_config.gin`;
/// variables under Mesh-TF's names, kernels transposed to `[in, out]`.
enum MeshTFScheme: OutputScheme {
    typealias Writer = TensorBundleWriter

    static let name = "tf"
    static let displayName = "TensorFlow"
    static let fileExtension: String? = nil
    /// The checkpoint prefix zoo writes (TensorFlow's `Saver` default without a step number).
    static let singleFileName = "model.ckpt"
    static let writtenFormats: Set<CheckpointFormat> = [.tensorflowBundle]
    static let planningNeeds: PlanningNeeds = .sourceGin
    /// The source's `config.json` is carried, but none is generated: Mesh-TF describes its model
    /// in `operative_config.gin`.
    static let configPolicy = ConfigPolicy.carried

    static func check(_ request: ConversionPlan.Request, model: T5Model?, source: AnalyzedCheckpoint)
        throws(ConvertError)
    {
        let path = source.checkpoint.location.path
        guard let model else { throw .notT5(path: path, reason: "Mesh-TF outputs hold T5 models only") }
        if request.compress {
            throw .unsupportedOutput(
                format: name, option: .compression, reason: "TensorFlow reads its checkpoints uncompressed")
        }
        // Mesh-TF T5 has one input embedding for both stacks (`shared/embedding`).
        if let untied = model.separateEmbeddings.first {
            throw .unsupportedVariant(
                path: path, variant: "untied input embeddings",
                reason: "\(untied) differs from shared.weight, and a Mesh-TF T5 checkpoint holds one embedding "
                    + "matrix for the encoder, the decoder and (when tied) the head")
        }
    }

    /// `inputs` (transformers names) under their Mesh-TF names; a transpose on the way in and one
    /// on the way out cancel (a Mesh-TF source rewritten as Mesh-TF is copied).
    static func named(_ inputs: [PlannedInput], model: T5Model?, path: String) throws(ConvertError) -> [PlannedInput] {
        try inputs.map { input throws(ConvertError) in
            guard let mesh = MeshTFNames.meshTFName(forHF: input.name) else {
                throw .unmappedTensor(path: path, tensor: input.name)
            }
            return PlannedInput(
                source: input.source, name: mesh.name, shape: mesh.transposed ? input.shape.reversed() : input.shape,
                transposed: input.transposed != mesh.transposed, scale: input.scale)
        }
    }

    /// Variables in key order (the order of the index), a new data shard past `shardSize` bytes.
    static func files(of recipes: [TensorRecipe], shardSize: Int?, writesDirectory: Bool) -> [ConversionPlan.File] {
        let sorted = recipes.indices.sorted { TensorBundle.keyOrder(recipes[$0].output.name, recipes[$1].output.name) }
        let groups = ShardPlan.groups(byteCounts: sorted.map { recipes[$0].output.byteCount }, limit: shardSize)
        return groups.enumerated().map { shard, indices in
            ConversionPlan.File(
                name: TensorBundle.shardName(prefix: singleFileName, shard, of: groups.count),
                tensorIndices: indices.map { sorted[$0] })
        }
    }

    static func header(of plan: PlanDraft) throws -> TensorBundleWriter.Header {
        .init(prefix: singleFileName)
    }

    /// The `checkpoint` file, and an `operative_config.gin` written from the model unless the
    /// source's is kept (it records the training run, and must describe these tensors).
    static func extraFiles(of plan: PlanDraft) throws(ConvertError) -> [ExtraFile] {
        var files = [
            ExtraFile(
                name: TensorBundle.checkpointFileName, text: TensorBundle.checkpointFileText(prefix: singleFileName))
        ]
        guard let model = plan.model else { return files }
        if let sourceGin = plan.context.sourceGin {
            try MeshTFLayout.crossCheck(sourceGin.config, from: sourceGin.url, against: model.config)
        } else {
            files.append(
                ExtraFile(name: MeshTFLayout.ginFileName, text: MeshTFGinWriter.operativeConfig(for: model.config)))
        }
        return files
    }

    /// `operative_config.gin`, written or kept.
    static func writesModelConfig(_ plan: ConversionPlan) -> Bool {
        plan.operativeConfig != nil || plan.keepsSourceGin
    }
}

extension OutputFormat {
    public static let tensorflow = OutputFormat(MeshTFScheme.self)
}

extension ConversionPlan {
    /// The `operative_config.gin` a TensorFlow output writes; `nil` when it keeps the source's
    /// (carried as a companion, after checking it against the tensors) or is not TensorFlow.
    public var operativeConfig: String? {
        extraFiles.first { $0.name == MeshTFLayout.ginFileName }?.text
    }

    /// Whether a TensorFlow output keeps the source's `operative_config.gin`.
    public var keepsSourceGin: Bool {
        format == .tensorflow && companions.files.contains(MeshTFLayout.ginFileName)
    }
}
