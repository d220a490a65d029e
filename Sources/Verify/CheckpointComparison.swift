import Convert
import Dispatch
import Formats
import Foundation

/// A tensor-by-tensor comparison of a converted checkpoint with its source.
public struct CheckpointComparison: Sendable {
    public let tensors: [TensorComparison]
    /// Source tensors with no counterpart in the converted checkpoint.
    public let missing: [String]
    /// Converted tensors the source does not have.
    public let extra: [String]

    public var passed: Bool { missing.isEmpty && extra.isEmpty && tensors.allSatisfy(\.passed) }
    public var bitExactCount: Int { tensors.filter(\.bitExact).count }
    public var maxAbsoluteError: Double { tensors.map(\.maxAbsoluteError).max() ?? 0 }
    public var maxRelativeError: Double { tensors.map(\.maxRelativeError).max() ?? 0 }
    public var maxULPError: Double { tensors.map(\.maxULPError).max() ?? 0 }

    /// Compares `converted` with `source`, tensor by tensor, by name (see `TensorPairing`).
    public init(_ converted: Checkpoint, against source: Checkpoint) {
        self.init(TensorPairing(byName: converted, against: source))
    }

    /// Compares every pair of `pairing`, on every core (tensors are independent), at a lower
    /// priority than the forward passes beside it (`BackgroundItems`).
    init(_ pairing: TensorPairing) {
        let results = ConcurrentResults<TensorComparison>(count: pairing.pairs.count)
        let work = pairing.pairs
        BackgroundItems.forEach(work.count) { index in
            results.store(index, work[index].compare())
        }
        self.init(tensors: results.values(), missing: pairing.missing, extra: pairing.extra)
    }

    init(tensors: [TensorComparison], missing: [String], extra: [String]) {
        self.tensors = tensors
        self.missing = missing
        self.extra = extra
    }
}

/// Which tensor of a converted checkpoint is compared with which of its source, decided from
/// names and specs alone, before any byte is read.
struct TensorPairing: Sendable {
    /// One converted tensor and its source counterpart; either may be stored transposed relative
    /// to the other (a Mesh-TF kernel), and is then transposed in memory to be compared.
    struct Pair: Sendable {
        let actual: TensorRef
        let expected: TensorRef
        var transposeActual = false
        var transposeExpected = false
        /// Compare with `expected`'s values times this (a GGUF's rescaled tied head).
        var expectedScale: Float?

        /// Both in transformers' orientation, under the converted side's name. A tensor whose bytes
        /// cannot be read to transpose them fails its comparison on the same read.
        func compare() -> TensorComparison {
            let mine = transposeActual ? (try? CheckpointComparison.transposed(actual)) ?? actual : actual
            let theirs = transposeExpected ? (try? CheckpointComparison.transposed(expected)) ?? expected : expected
            return TensorComparison.compare(mine, with: theirs.renamed(actual.name), expectedScale: expectedScale)
        }
    }

    var pairs: [Pair]
    /// Source tensors with no counterpart in the converted checkpoint.
    var missing: [String]
    /// Converted tensors the source does not have.
    var extra: [String]

    init(pairs: [Pair], missing: [String], extra: [String]) {
        self.pairs = pairs
        self.missing = missing
        self.extra = extra
    }

    /// Pairs by name. A source tensor that T5 ties to `shared.weight` may be absent from the
    /// converted checkpoint when it was folded into it; it is then compared with `shared.weight`.
    init(byName converted: Checkpoint, against source: Checkpoint) {
        let convertedByName = Dictionary(
            converted.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let sourceNames = Set(source.tensors.map(\.name))
        let foldable = Set(TiedEmbeddings.embeddingAliases + [TiedEmbeddings.lmHead])
        var pairs: [Pair] = []
        var missing: [String] = []
        for expected in source.tensors {
            if let actual = convertedByName[expected.name] {
                pairs.append(Pair(actual: actual, expected: expected))
            } else if foldable.contains(expected.name), let shared = convertedByName[TiedEmbeddings.canonical] {
                pairs.append(Pair(actual: shared, expected: expected))
            } else {
                missing.append(expected.name)
            }
        }
        // A converted checkpoint may name the shared embedding more often than its source (a PyTorch
        // file written from safetensors carries transformers' tied names): those compare with it too.
        var extra: [String] = []
        for tensor in converted.tensors where !sourceNames.contains(tensor.name) {
            if foldable.contains(tensor.name), let shared = source.tensor(named: TiedEmbeddings.canonical) {
                pairs.append(Pair(actual: tensor, expected: shared.renamed(tensor.name)))
            } else {
                extra.append(tensor.name)
            }
        }
        self.init(pairs: pairs, missing: missing, extra: extra)
    }

    /// The narrowest dtype a tensor is cast to (by byte size), if any tensor is cast; Q8_0 when
    /// any is quantized (its rounding is the coarsest).
    var narrowestRounding: DType? {
        if pairs.contains(where: { $0.actual.dtype == .q8_0 && $0.expected.dtype != .q8_0 }) { return .q8_0 }
        // Narrowing casts round, and so do casts between the two 16-bit formats (bf16 -> fp16 loses
        // the small values fp16 holds only as subnormals; fp16 -> bf16 loses mantissa bits).
        let rounded: [DType] = pairs.filter { pair -> Bool in
            let (from, to) = (pair.expected.dtype, pair.actual.dtype)
            return from != to && !to.isBlockQuantized && !from.isBlockQuantized && to.byteSize <= from.byteSize
        }
        .map(\.actual.dtype)
        return rounded.min { lhs, rhs in
            // bf16 keeps fewer mantissa bits than f16: the looser limits.
            lhs.byteSize != rhs.byteSize ? lhs.byteSize < rhs.byteSize : lhs == .bf16
        }
    }
}
