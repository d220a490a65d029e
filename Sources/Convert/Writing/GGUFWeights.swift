import Formats

/// One GGUF file with the plan's typed metadata (the `t5.*` keys and the tokenizer): the
/// destination itself, or `model.gguf` in a directory output.
enum GGUFWeights: WeightsWriter {
    static func write(_ tensors: [any TensorByteSource], of plan: ConversionPlan, into staged: StagedOutput) throws
        -> [String]
    {
        let name = plan.writesDirectory ? plan.format.singleFileName : staged.destination.lastPathComponent
        let path =
            plan.writesDirectory ? staged.staging.appendingPathComponent(name).path : staged.staging.path
        try GGUFWriter.write(tensors, metadata: plan.ggufMetadata, to: path)
        return [name]
    }
}
