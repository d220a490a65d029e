import Foundation

/// T5's relative-position buckets, computed exactly as transformers' `_relative_position_bucket`.
enum RelativePosition {
    /// The bucket of `relativePosition` (= key position - query position).
    ///
    /// Encoders are bidirectional (half the buckets for keys after the query); decoders are causal.
    /// Distances below half the (remaining) buckets are exact; larger ones are log-spaced up to
    /// `maxDistance`, computed in float32 and truncated, as torch does.
    static func bucket(_ relativePosition: Int, bidirectional: Bool, buckets: Int, maxDistance: Int) -> Int {
        var numBuckets = buckets
        var result = 0
        var distance: Int
        if bidirectional {
            numBuckets /= 2
            if relativePosition > 0 { result += numBuckets }
            distance = abs(relativePosition)
        } else {
            distance = -min(relativePosition, 0)
        }
        let maxExact = numBuckets / 2
        if distance < maxExact { return result + distance }
        // torch: log(float32(distance) / max_exact) / log(max_distance / max_exact) * (num_buckets - max_exact),
        // every step in float32, then truncated toward zero.
        let scaled =
            logf(Float(distance) / Float(maxExact)) / Float(Foundation.log(Double(maxDistance) / Double(maxExact)))
            * Float(numBuckets - maxExact)
        return result + min(maxExact + Int(scaled), numBuckets - 1)
    }

    /// `bias[head][query][key]` for a `queries` x `keys` attention, from the `[buckets, heads]` table.
    static func bias(
        table: Matrix, queries: Int, keys: Int, bidirectional: Bool, maxDistance: Int
    ) -> [[Float]] {
        let heads = table.columns
        var bias = [[Float]](repeating: [Float](repeating: 0, count: queries * keys), count: heads)
        for query in 0..<queries {
            for key in 0..<keys {
                let bucket = bucket(
                    key - query, bidirectional: bidirectional, buckets: table.rows, maxDistance: maxDistance)
                for head in 0..<heads { bias[head][query * keys + key] = table[bucket, head] }
            }
        }
        return bias
    }
}
