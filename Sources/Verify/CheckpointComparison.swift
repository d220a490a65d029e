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

    /// Compares `converted` with `source`, tensor by tensor, by name.
    ///
    /// A source tensor that T5 ties to `shared.weight` may be absent from the converted checkpoint
    /// when it was folded into it; it is then compared with `shared.weight`.
    public init(_ converted: Checkpoint, against source: Checkpoint) {
        let convertedByName = Dictionary(
            converted.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let sourceNames = Set(source.tensors.map(\.name))
        let foldable = Set(TiedEmbeddings.embeddingAliases + [TiedEmbeddings.lmHead])
        var pairs: [(actual: TensorRef, expected: TensorRef)] = []
        var missing: [String] = []
        for expected in source.tensors {
            if let actual = convertedByName[expected.name] {
                pairs.append((actual, expected))
            } else if foldable.contains(expected.name), let shared = convertedByName[TiedEmbeddings.canonical] {
                pairs.append((shared, expected))
            } else {
                missing.append(expected.name)
            }
        }
        // A converted checkpoint may name the shared embedding more often than its source (a PyTorch
        // file written from safetensors carries transformers' tied names): those compare with it too.
        var extra: [String] = []
        for tensor in converted.tensors where !sourceNames.contains(tensor.name) {
            if foldable.contains(tensor.name), let shared = source.tensor(named: TiedEmbeddings.canonical) {
                pairs.append((tensor, shared.renamed(tensor.name)))
            } else {
                extra.append(tensor.name)
            }
        }
        // Tensors are independent: compare them on every core.
        let results = ConcurrentResults<TensorComparison>(count: pairs.count)
        let work = pairs
        DispatchQueue.concurrentPerform(iterations: work.count) { index in
            results.store(index, TensorComparison.compare(work[index].actual, with: work[index].expected))
        }
        self.init(tensors: results.values(), missing: missing, extra: extra)
    }

    init(tensors: [TensorComparison], missing: [String], extra: [String]) {
        self.tensors = tensors
        self.missing = missing
        self.extra = extra
    }
}
