import Convert
import Formats

/// The precision the forward pass keeps its activations in.
///
/// Matrix products accumulate in fp32 in every mode, as fp16/bf16 inference kernels do; what
/// changes is where results are stored: after every product, activation, normalisation, softmax
/// and residual sum, values are rounded to the mode's dtype. The fp16 mode also applies
/// transformers' clamp (values past ±(65504 - 1000) after a block that produced an infinity), so
/// a model whose activations overflow fp16 shows it here the way fp16 inference would.
public enum ComputePrecision: String, CaseIterable, Sendable {
    case fp32
    case bf16
    case fp16

    var storage: DType? {
        switch self {
        case .fp32: nil
        case .bf16: .bf16
        case .fp16: .f16
        }
    }
}

/// Rounds activations to a `ComputePrecision` and counts what overflowed.
final class ActivationRounding {
    let precision: ComputePrecision
    /// Activations that became infinite when stored (fp16 overflow).
    private(set) var overflowed = 0
    /// Where the first overflow happened (`encoder.block.1 feed-forward`).
    private(set) var firstOverflow: String?

    init(_ precision: ComputePrecision) {
        self.precision = precision
    }

    /// Rounds `matrix` to the storage dtype in place; `site` names it for the overflow report.
    func store(_ matrix: inout Matrix, at site: @autoclosure () -> String) {
        guard let dtype = precision.storage else { return }
        var statistics = CastStatistics()
        var narrow = [UInt16](repeating: 0, count: matrix.values.count)
        matrix.values.withUnsafeBytes { source in
            narrow.withUnsafeMutableBytes { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                FloatCast.convert(
                    from, from: .f32, into: to, to: dtype, count: matrix.values.count, statistics: &statistics)
            }
        }
        let count = matrix.values.count
        narrow.withUnsafeBytes { source in
            matrix.values.withUnsafeMutableBytes { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                var ignored = CastStatistics()
                FloatCast.convert(from, from: dtype, into: to, to: .f32, count: count, statistics: &ignored)
            }
        }
        if statistics.overflowToInfinity > 0 {
            overflowed += statistics.overflowToInfinity
            if firstOverflow == nil { firstOverflow = site() }
        }
    }

    /// transformers' fp16 guard after each sub-layer of a block: clamp to the largest finite
    /// fp16 value, or 1000 below it once an infinity has appeared.
    func clampAfterBlockStep(_ matrix: inout Matrix) {
        guard precision == .fp16 else { return }
        let limit: Float = matrix.values.contains { $0.isInfinite } ? 65504 - 1000 : 65504
        for index in matrix.values.indices { matrix.values[index] = min(max(matrix.values[index], -limit), limit) }
        store(&matrix, at: "clamp")
    }
}
