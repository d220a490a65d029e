import Formats

/// A format stored as transformers stores weights: one file, or shards past the shard size named
/// `<stem>-0000K-of-0000N.<ext>` with a JSON index mapping every tensor to its shard.
protocol ShardedFileScheme: OutputScheme {
    /// The index of a sharded output (`model.safetensors.index.json`).
    static var indexFileName: String { get }
    /// The name of shard `number` (1-based) of `count`.
    static func shardFileName(_ number: Int, of count: Int) -> String
    /// Whether the index maps the aliases a shard stores too.
    static var indexListsAliases: Bool { get }
}

extension ShardedFileScheme {
    /// Recipes in plan order, a new file past `shardSize` bytes (never for a single-file output).
    static func files(of recipes: [TensorRecipe], shardSize: Int?, writesDirectory: Bool) -> [ConversionPlan.File] {
        let groups = ShardPlan.groups(
            byteCounts: recipes.map(\.output.byteCount), limit: writesDirectory ? shardSize : nil)
        return groups.enumerated().map { number, indices in
            ConversionPlan.File(
                name: groups.count == 1 ? singleFileName : shardFileName(number + 1, of: groups.count),
                tensorIndices: indices)
        }
    }

    /// The index, when the output is sharded.
    static func extraFiles(of plan: PlanDraft) throws(ConvertError) -> [ExtraFile] {
        guard plan.writesDirectory && plan.files.count > 1 else { return [] }
        let index = ShardedCheckpoint.indexJSON(
            weightMap: plan.weightMap(withAliases: indexListsAliases), totalSize: plan.tensorBytes)
        return [ExtraFile(name: indexFileName, text: index)]
    }
}
