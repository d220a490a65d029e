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
                // The first element of the differing block (a block-quantized dtype's elements share bytes).
                let element = offset / actual.dtype.bytesPerBlock * actual.dtype.elementsPerBlock
                return verdict(false, .exact, .infinity, .infinity, 1, element)
            }
        } else if !FloatCast.canCast(from: actual.dtype, to: .f64) || !FloatCast.canCast(from: expected.dtype, to: .f64)
        {
            return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
        }

        let narrower = actual.dtype.byteSize <= expected.dtype.byteSize ? actual.dtype : expected.dtype
        let tolerance = actual.dtype == expected.dtype ? Tolerance.exact : Tolerance.rounding(to: narrower)
        var statistics = ErrorStatistics(tolerance: tolerance, ulpFormat: Self.ulpFormat(narrower))
        do {
            try forEachChunkPair(actual, expected) { start, values, references in
                statistics.add(values, references, startingAt: start)
            }
        } catch {
            return verdict(false, tolerance, .infinity, .infinity, max(count, 1), 0)  // unreadable bytes
        }
        return verdict(
            false, tolerance, statistics.maxAbs, statistics.maxRel, statistics.bad, statistics.first,
            ulp: statistics.maxULP)
    }

    /// Explicit mantissa bits and smallest normal exponent of the narrower float dtype (`nil`: f64,
    /// where a difference is never a rounding).
    private static func ulpFormat(_ dtype: DType) -> (mantissaBits: Int, minExponent: Int)? {
        switch dtype {
        case .bf16: (7, -126)
        case .f16: (10, -14)
        case .f32: (23, -126)
        default: nil
        }
    }

    /// Calls `body` with consecutive chunks of both tensors widened to `Double` (exact for every
    /// float dtype), read with `pread` so that comparing two large checkpoints keeps only the
    /// chunks resident.
    private static func forEachChunkPair(
        _ left: TensorRef, _ right: TensorRef,
        _ body: (Int, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> Void
    ) throws {
        let count = left.spec.elementCount
        let chunk = 1 << 16
        let leftValues = UnsafeMutableBufferPointer<Double>.allocate(capacity: chunk)
        let rightValues = UnsafeMutableBufferPointer<Double>.allocate(capacity: chunk)
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * 8, alignment: 64)
        defer {
            leftValues.deallocate()
            rightValues.deallocate()
            raw.deallocate()
        }
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            try decode(left, from: done, count: n, staging: raw, into: leftValues)
            try decode(right, from: done, count: n, staging: raw, into: rightValues)
            body(
                done, UnsafeBufferPointer(rebasing: leftValues[0..<n]),
                UnsafeBufferPointer(rebasing: rightValues[0..<n]))
            done += n
        }
    }

    /// Reads `count` elements from element `start` and widens them to `Double`.
    private static func decode(
        _ tensor: TensorRef, from start: Int, count: Int, staging: UnsafeMutableRawBufferPointer,
        into output: UnsafeMutableBufferPointer<Double>
    ) throws {
        guard let buffer = staging.baseAddress, let target = output.baseAddress else { return }
        let itemSize = tensor.dtype.byteSize
        let first = tensor.fileOffset + start * itemSize
        try tensor.file.read(first..<(first + count * itemSize), into: buffer)
        var ignored = CastStatistics()
        FloatCast.convert(buffer, from: tensor.dtype, into: target, to: .f64, count: count, statistics: &ignored)
    }
}

/// Running error statistics of a tensor comparison, over chunks.
private struct ErrorStatistics {
    let tolerance: Tolerance
    let ulpFormat: (mantissaBits: Int, minExponent: Int)?
    var maxAbs = 0.0
    var maxRel = 0.0
    var maxULP = 0.0
    var bad = 0
    var first: Int?

    mutating func add(
        _ values: UnsafeBufferPointer<Double>, _ references: UnsafeBufferPointer<Double>, startingAt start: Int
    ) {
        for index in 0..<values.count {
            let value = values[index]
            let reference = references[index]
            if !tolerance.accepts(value, expected: reference) {
                bad += 1
                if first == nil { first = start + index }
            }
            guard value.isFinite, reference.isFinite else { continue }
            let error = abs(value - reference)
            guard error > 0 else { continue }
            maxAbs = max(maxAbs, error)
            if reference != 0 { maxRel = max(maxRel, error / abs(reference)) }
            if let ulpFormat {
                // 2^(exponent - mantissa bits), from the exponent field (subnormals: the smallest normal's).
                let exponent = max(Int((reference.bitPattern >> 52) & 0x7FF) - 1023, ulpFormat.minExponent)
                let ulp = Double(bitPattern: UInt64(exponent - ulpFormat.mantissaBits + 1023) << 52)
                maxULP = max(maxULP, error / ulp)
            }
        }
    }
}
