import Convert
import Formats

/// How one tensor of a converted checkpoint compares with the same tensor of its source.
public struct TensorComparison: Sendable {
    public let name: String
    public let expectedDType: DType
    public let actualDType: DType
    public let elementCount: Int
    /// Whether the bytes are identical (only possible when the dtypes are equal).
    public let bitExact: Bool
    public let tolerance: Tolerance
    public let maxAbsoluteError: Double
    public let maxRelativeError: Double
    /// The largest error in units in the last place of the narrower dtype, at the expected value:
    /// at most 0.5 for a correctly rounded cast (0 when the dtypes are equal).
    public let maxULPError: Double
    /// Elements outside `tolerance`.
    public let mismatches: Int
    /// Index (row-major) of the first element outside `tolerance`.
    public let firstMismatch: Int?

    public var passed: Bool { mismatches == 0 }

    /// Compares `actual` with `expected`.
    ///
    /// Same dtype: the bytes must be identical. Different float dtypes: every element must lie
    /// within the rounding bound of the narrower dtype (NaN for NaN, inf for the same inf).
    /// Anything else (different shapes, integer dtypes that differ) fails outright.
    public static func compare(_ actual: TensorRef, with expected: TensorRef) -> TensorComparison {
        let count = expected.spec.elementCount
        func verdict(
            _ bitExact: Bool, _ tolerance: Tolerance, _ maxAbs: Double, _ maxRel: Double, _ bad: Int, _ first: Int?,
            ulp: Double = 0
        )
            -> TensorComparison
        {
            TensorComparison(
                name: expected.name, expectedDType: expected.dtype, actualDType: actual.dtype, elementCount: count,
                bitExact: bitExact, tolerance: tolerance, maxAbsoluteError: maxAbs, maxRelativeError: maxRel,
                maxULPError: ulp, mismatches: bad, firstMismatch: first)
        }
        guard actual.shape == expected.shape else {
            return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
        }
        if actual.dtype == expected.dtype {
            guard let offset = actual.firstDifference(from: expected) else {
                return verdict(true, .exact, 0, 0, 0, nil)
            }
            if !FloatCast.canCast(from: actual.dtype, to: .f64) {
                return verdict(false, .exact, .infinity, .infinity, 1, offset / actual.dtype.byteSize)
            }
        } else if !FloatCast.canCast(from: actual.dtype, to: expected.dtype) {
            return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
        }

        let narrower = actual.dtype.byteSize <= expected.dtype.byteSize ? actual.dtype : expected.dtype
        let tolerance = actual.dtype == expected.dtype ? Tolerance.exact : Tolerance.rounding(to: narrower)
        var maxAbs = 0.0
        var maxRel = 0.0
        var maxULP = 0.0
        var bad = 0
        var first: Int?
        let ulpBits = Self.mantissaBits(narrower)
        forEachPair(actual, expected) { index, value, reference in
            if !tolerance.accepts(value, expected: reference) {
                bad += 1
                if first == nil { first = index }
            }
            guard value.isFinite, reference.isFinite else { return }
            let error = abs(value - reference)
            maxAbs = max(maxAbs, error)
            if reference != 0 { maxRel = max(maxRel, error / abs(reference)) }
            if let ulpBits, error > 0 {
                maxULP = max(maxULP, error / Self.ulp(of: reference, mantissaBits: ulpBits.0, minExponent: ulpBits.1))
            }
        }
        return verdict(false, tolerance, maxAbs, maxRel, bad, first, ulp: maxULP)
    }

    /// Explicit mantissa bits and smallest normal exponent of a float dtype.
    private static func mantissaBits(_ dtype: DType) -> (Int, Int)? {
        switch dtype {
        case .bf16: (7, -126)
        case .f16: (10, -14)
        case .f32: (23, -126)
        case .f64: (52, -1022)
        default: nil
        }
    }

    /// The spacing of representable values around `value` in a format with `mantissaBits`
    /// (subnormals: the spacing at the smallest normal exponent).
    private static func ulp(of value: Double, mantissaBits: Int, minExponent: Int) -> Double {
        let exponent = value == 0 ? minExponent : max(Int(value.exponent), minExponent)
        return Double(sign: .plus, exponent: exponent - mantissaBits, significand: 1)
    }

    /// Calls `body` with each element of both tensors as `Double`, decoding a chunk at a time.
    private static func forEachPair(_ left: TensorRef, _ right: TensorRef, _ body: (Int, Double, Double) -> Void) {
        let count = left.spec.elementCount
        let chunk = 1 << 14
        var leftValues = [Double](repeating: 0, count: chunk)
        var rightValues = [Double](repeating: 0, count: chunk)
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            decode(left, from: done, count: n, into: &leftValues)
            decode(right, from: done, count: n, into: &rightValues)
            for index in 0..<n { body(done + index, leftValues[index], rightValues[index]) }
            done += n
        }
    }

    /// Widens `count` elements starting at element `start` to `Double` (exact for every float dtype).
    private static func decode(_ tensor: TensorRef, from start: Int, count: Int, into output: inout [Double]) {
        var ignored = CastStatistics()
        tensor.withUnsafeBytes { bytes in
            output.withUnsafeMutableBytes { target in
                guard let source = bytes.baseAddress, let destination = target.baseAddress else { return }
                FloatCast.convert(
                    source + start * tensor.dtype.byteSize, from: tensor.dtype, into: destination, to: .f64,
                    count: count, statistics: &ignored)
            }
        }
    }
}
