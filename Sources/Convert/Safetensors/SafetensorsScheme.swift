import Formats

/// safetensors outputs: `model.safetensors`, or shards with transformers' index; tied copies of
/// `shared.weight` written once and recorded in the metadata (safetensors cannot store one
/// tensor under two names).
enum SafetensorsScheme: ShardedFileScheme {
    typealias Writer = SafetensorsWriter

    static let name = "safetensors"
    static let displayName = "safetensors"
    static let fileExtension: String? = "safetensors"
    static let singleFileName = "model.safetensors"
    static let writtenFormats: Set<CheckpointFormat> = [.safetensors, .safetensorsSharded]
    static let indexFileName = ShardedSafetensors.indexFileName
    static let indexListsAliases = false

    static func shardFileName(_ number: Int, of count: Int) -> String {
        ShardedSafetensors.shardFileName(number, of: count)
    }

    /// The folded copies, recorded under `zoo.tied` in the metadata.
    static func tiedAliases(of model: T5Model?) -> [String] { model?.aliases ?? [] }

    /// Every file's `__metadata__`.
    static func header(of plan: PlanDraft) throws -> [String: String] {
        ConversionPlan.metadata(source: plan.source, aliases: plan.aliases)
    }
}

extension OutputFormat {
    public static let safetensors = OutputFormat(SafetensorsScheme.self)
}
