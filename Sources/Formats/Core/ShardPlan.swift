/// How tensors are grouped into output files, as transformers shards: in order, starting a new
/// shard when the next tensor would push the current one past the limit. A tensor larger than
/// the limit gets a shard of its own. Every sharded format uses it (safetensors and PyTorch
/// shards, TensorFlow data shards), and its shard numbers.
public enum ShardPlan {
    /// Groups of indices into `byteCounts`, one group per shard.
    public static func groups(byteCounts: [Int], limit: Int?) -> [[Int]] {
        guard let limit else { return [Array(byteCounts.indices)] }
        var shards: [[Int]] = []
        var current: [Int] = []
        var currentBytes = 0
        for (index, bytes) in byteCounts.enumerated() {
            if !current.isEmpty && currentBytes + bytes > limit {
                shards.append(current)
                current = []
                currentBytes = 0
            }
            current.append(index)
            currentBytes += bytes
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }
        return shards
    }

    /// `number` printed with at least five digits, as transformers (`00001-of-00003`) and
    /// TensorFlow (`data-00000-of-00002`) number shards.
    public static func fiveDigits(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}
