import Formats

/// A Mesh-TF checkpoint's bundle: `model.ckpt.data-0000K-of-0000N` (sharded by `TensorBundle.write`
/// in key order), `model.ckpt.index` and the `checkpoint` file.
enum TensorFlowWeights: WeightsWriter {
    static func write(_ tensors: [any TensorByteSource], of plan: ConversionPlan, into staged: StagedOutput) throws
        -> [String]
    {
        try TensorBundle.write(
            tensors, prefix: staged.staging.appendingPathComponent(plan.format.singleFileName),
            shardSize: plan.request.shardSize)
    }
}
