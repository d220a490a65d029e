internal import CZooKernels
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
    ///
    /// - Parameter expectedScale: compare with `expected`'s values times this factor instead (each
    ///   product in double precision, rounded once to float32, so the reference is float32): how a
    ///   GGUF's rescaled tied head is checked against the embedding, a chunk at a time.
    public static func compare(_ actual: TensorRef, with expected: TensorRef, expectedScale: Float? = nil)
        -> TensorComparison
    {
        let count = expected.spec.elementCount
        let expectedDType = expectedScale == nil ? expected.dtype : .f32
        func verdict(
            _ bitExact: Bool, _ tolerance: Tolerance, _ maxAbs: Double, _ maxRel: Double, _ bad: Int, _ first: Int?,
            ulp: Double = 0
        )
            -> TensorComparison
        {
            TensorComparison(
                name: expected.name, expectedDType: expectedDType, actualDType: actual.dtype, elementCount: count,
                bitExact: bitExact, tolerance: tolerance, maxAbsoluteError: maxAbs, maxRelativeError: maxRel,
                maxULPError: ulp, mismatches: bad, firstMismatch: first)
        }
        guard actual.shape == expected.shape else {
            return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
        }
        if actual.dtype == expected.dtype && expectedScale == nil {
            guard let offset = actual.firstDifference(from: expected) else {
                return verdict(true, .exact, 0, 0, 0, nil)
            }
            if !FloatCast.canCast(from: actual.dtype, to: .f64) {
                // The first element of the differing block (a block-quantized dtype's elements share bytes).
                let element = offset / actual.dtype.bytesPerBlock * actual.dtype.elementsPerBlock
                return verdict(false, .exact, .infinity, .infinity, 1, element)
            }
        } else if actual.dtype == .q8_0 || expected.dtype == .q8_0 && expectedScale == nil {
            guard
                FloatCast.canCast(from: actual.dtype, to: .f64) || FloatCast.canCast(from: expected.dtype, to: .f64)
                    || expected.dtype == .q8_0
            else {
                return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
            }
            do {
                let (tolerance, statistics) = try compareQuantized(actual, with: expected, expectedScale: expectedScale)
                return verdict(
                    false, tolerance, statistics.maxAbsolute, statistics.maxRelative, Int(statistics.mismatches),
                    statistics.firstMismatch < 0 ? nil : Int(statistics.firstMismatch))
            } catch {
                return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)  // unreadable bytes
            }
        } else if !FloatCast.canCast(from: actual.dtype, to: .f64)
            || !(FloatCast.canCast(from: expected.dtype, to: .f64) || expected.dtype == .q8_0)
        {
            return verdict(false, .exact, .infinity, .infinity, max(count, 1), 0)
        }

        let narrower = actual.dtype.byteSize <= expectedDType.byteSize ? actual.dtype : expectedDType
        let tolerance = actual.dtype == expectedDType ? Tolerance.exact : Tolerance.rounding(to: narrower)
        var statistics = CZooKernels_ErrorStats(
            maxAbsolute: 0, maxRelative: 0, maxULP: 0, mismatches: 0, firstMismatch: -1)
        let ulp = Self.ulpFormat(narrower)
        do {
            try forEachChunkPair(actual, expected, rightScale: expectedScale) { start, values, references in
                CZooKernels_compare(
                    values.base, values.type, references.base, references.type, values.count, tolerance.absolute,
                    tolerance.relative, Int32(ulp?.mantissaBits ?? -1), Int32(ulp?.minExponent ?? 0), UInt64(start),
                    &statistics)
            }
        } catch {
            return verdict(false, tolerance, .infinity, .infinity, max(count, 1), 0)  // unreadable bytes
        }
        return verdict(
            false, tolerance, statistics.maxAbsolute, statistics.maxRelative, Int(statistics.mismatches),
            statistics.firstMismatch < 0 ? nil : Int(statistics.firstMismatch), ulp: statistics.maxULP)
    }

    /// Compares a Q8_0 tensor with a float one, either way round.
    ///
    /// Quantized (`actual` Q8_0): each value must lie within what ggml's rounding allows in its
    /// block, `0.5001 D + 128 e` for the block's stored fp16 scale `D`, where `e` bounds the fp16
    /// rounding of the exact scale (`max(D * 2^-11, 2^-25)`, with 0.1% to spare): half a step of
    /// the exact scale, plus up to 127 steps of that scale's rounding (|q| <= 127). A value in the
    /// wrong block, a wrong scale or a transposed matrix is far outside it. The tolerance
    /// reported is the largest block's bound.
    ///
    /// Dequantized (`expected` Q8_0): the values are `q * D` exactly, so a float32 or float64
    /// `actual` must equal them and a 16-bit one be their correct rounding.
    private static func compareQuantized(_ actual: TensorRef, with expected: TensorRef, expectedScale: Float?) throws
        -> (
            Tolerance, CZooKernels_ErrorStats
        )
    {
        var statistics = CZooKernels_ErrorStats(
            maxAbsolute: 0, maxRelative: 0, maxULP: 0, mismatches: 0, firstMismatch: -1)
        let count = expected.spec.elementCount
        let chunk = min(1 << 15, max(count, Q8_0.blockSize))
        let slot = chunk * 8
        return try withUnsafeTemporaryAllocation(byteCount: 4 * slot, alignment: 64) { buffers in
            guard let base = buffers.baseAddress else { return (.exact, statistics) }
            let quantized = actual.dtype == .q8_0
            var tolerance =
                quantized || [.f32, .f64].contains(actual.dtype)
                ? Tolerance.exact : Tolerance.rounding(to: actual.dtype)
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                let values = try read(actual, from: done, count: n, into: base, widenedInto: base + slot)
                let references = try read(
                    expected, from: done, count: n, into: base + 2 * slot, widenedInto: base + 3 * slot,
                    scale: expectedScale)
                guard quantized else {
                    CZooKernels_compare(
                        values.base, values.type, references.base, references.type, n, tolerance.absolute,
                        tolerance.relative, -1, 0, UInt64(done), &statistics)
                    done += n
                    continue
                }
                let blocks = UnsafeRawBufferPointer(start: base, count: n / Q8_0.blockSize * Q8_0.bytesPerBlock)
                for block in 0..<(n / Q8_0.blockSize) {
                    let scale = Double(
                        Float16(
                            bitPattern: UInt16(blocks[block * Q8_0.bytesPerBlock])
                                | UInt16(blocks[block * Q8_0.bytesPerBlock + 1]) << 8))
                    let scaleRounding = max(scale * 0x1p-11, 0x1p-25) * 1.001
                    let bound = 0.5001 * scale + 128 * scaleRounding
                    tolerance.absolute = max(tolerance.absolute, bound)
                    let offset = block * Q8_0.blockSize
                    CZooKernels_compare(
                        values.base + 4 * offset, values.type, references.base + references.elementSize * offset,
                        references.type, Q8_0.blockSize, bound, 0, -1, 0, UInt64(done + offset), &statistics)
                }
                done += n
            }
            return (tolerance, statistics)
        }
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

    /// One chunk of a tensor's elements as the comparison kernel reads them.
    private struct Chunk {
        let base: UnsafeRawPointer
        let type: CZooKernels_FloatType
        let count: Int

        /// Bytes per element of `type`.
        var elementSize: Int {
            switch type {
            case CZooKernels_F64: 8
            case CZooKernels_F32: 4
            default: 2
            }
        }
    }

    /// Where elements `start..<start + count` of an elementwise tensor lie in its file.
    private static func byteRange(of tensor: TensorRef, from start: Int, count: Int) -> Range<Int> {
        let first = tensor.fileOffset + start * tensor.dtype.byteSize
        return first..<(first + count * tensor.dtype.byteSize)
    }

    /// The kernel's name for a dtype it reads as stored, if it is one.
    private static func kernelType(_ dtype: DType) -> CZooKernels_FloatType? {
        switch dtype {
        case .f32: CZooKernels_F32
        case .bf16: CZooKernels_BF16
        case .f16: CZooKernels_F16
        case .f64: CZooKernels_F64
        default: nil
        }
    }

    /// Calls `body` with consecutive chunks of both tensors' elements. f32, bf16, f16 and f64 are
    /// passed as stored (the kernel widens them exactly), straight from the files' mappings, each
    /// chunk's pages released after it: no copy, and comparing two large checkpoints keeps only
    /// the chunks resident. Other dtypes, and a scaled side, are read with `pread` and widened to
    /// f32 first.
    private static func forEachChunkPair(
        _ left: TensorRef, _ right: TensorRef, rightScale: Float?, _ body: (Int, Chunk, Chunk) -> Void
    ) throws {
        let count = left.spec.elementCount
        if rightScale == nil, let leftType = kernelType(left.dtype), let rightType = kernelType(right.dtype) {
            let chunk = 1 << 18
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                left.file.withBytesOnce(in: byteRange(of: left, from: done, count: n)) { leftMapped in
                    right.file.withBytesOnce(in: byteRange(of: right, from: done, count: n)) { rightMapped in
                        guard let leftBase = leftMapped.baseAddress, let rightBase = rightMapped.baseAddress else {
                            return
                        }
                        body(
                            done, Chunk(base: leftBase, type: leftType, count: n),
                            Chunk(base: rightBase, type: rightType, count: n))
                    }
                }
                done += n
            }
            return
        }
        // Small enough for malloc to reuse from tensor to tensor (fresh pages for every tensor
        // of a large model would cost more page faults than the comparison costs arithmetic).
        let chunk = min(1 << 15, max(count, 1))
        try withUnsafeTemporaryAllocation(byteCount: 4 * chunk * 8, alignment: 64) { buffers in
            guard let base = buffers.baseAddress else { return }
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                let leftChunk = try read(left, from: done, count: n, into: base, widenedInto: base + chunk * 8)
                let rightChunk = try read(
                    right, from: done, count: n, into: base + 2 * chunk * 8, widenedInto: base + 3 * chunk * 8,
                    scale: rightScale)
                body(done, leftChunk, rightChunk)
                done += n
            }
        }
    }

    /// Reads `count` elements from element `start` into `buffer` (and, for a type the kernel does
    /// not read, widens them to f32 into `widened`); with `scale`, the values times `scale` as f32
    /// in `widened`.
    private static func read(
        _ tensor: TensorRef, from start: Int, count: Int, into buffer: UnsafeMutableRawPointer,
        widenedInto widened: UnsafeMutableRawPointer, scale: Float? = nil
    ) throws -> Chunk {
        let chunk = try read(tensor, from: start, count: count, into: buffer, widenedInto: widened)
        guard let scale else { return chunk }
        let floats = widened.bindMemory(to: Float.self, capacity: count)
        if chunk.base != UnsafeRawPointer(widened) {
            if tensor.dtype == .f32 {
                widened.copyMemory(from: chunk.base, byteCount: 4 * count)
            } else {
                var ignored = CastStatistics()
                FloatCast.convert(
                    chunk.base, from: tensor.dtype, into: widened, to: .f32, count: count, statistics: &ignored)
            }
        }
        for index in 0..<count { floats[index] = Float(Double(floats[index]) * Double(scale)) }
        return Chunk(base: widened, type: CZooKernels_F32, count: count)
    }

    /// `read` without scaling.
    private static func read(
        _ tensor: TensorRef, from start: Int, count: Int, into buffer: UnsafeMutableRawPointer,
        widenedInto widened: UnsafeMutableRawPointer
    ) throws -> Chunk {
        if tensor.dtype == .q8_0 {
            // `start` and `count` are whole blocks: chunks are multiples of 32 elements, and so is
            // every Q8_0 tensor.
            let first = tensor.fileOffset + start / Q8_0.blockSize * Q8_0.bytesPerBlock
            let bytes = count / Q8_0.blockSize * Q8_0.bytesPerBlock
            try tensor.file.read(first..<(first + bytes), into: buffer)
            Q8_0.dequantize(
                UnsafeRawBufferPointer(start: buffer, count: bytes),
                into: UnsafeMutableBufferPointer(
                    start: widened.bindMemory(to: Float.self, capacity: count), count: count))
            return Chunk(base: widened, type: CZooKernels_F32, count: count)
        }
        try tensor.file.read(byteRange(of: tensor, from: start, count: count), into: buffer)
        if let type = kernelType(tensor.dtype) { return Chunk(base: buffer, type: type, count: count) }
        var ignored = CastStatistics()
        FloatCast.convert(buffer, from: tensor.dtype, into: widened, to: .f32, count: count, statistics: &ignored)
        return Chunk(base: widened, type: CZooKernels_F32, count: count)
    }
}
