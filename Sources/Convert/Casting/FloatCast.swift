internal import CZooKernels
import Formats

/// Element-wise conversions between F64, F32, F16 and BF16, bit-compatible with torch's CPU casts.
///
/// The loops are written branch-free on integer bit patterns so the optimiser vectorises them:
/// a conversion must run at memory speed. The two narrowing casts from F32 that every conversion
/// runs live in `CZooKernels`, which carries AVX2 and AVX-512 clones of them. fp32 -> bf16 rounds to nearest even and maps every NaN
/// to 0x7FC0 (torch's `round_to_nearest_even`); fp32 -> fp16 rounds to nearest even with overflow
/// to infinity, keeping subnormals (what F16C's `vcvtps2ph` does). Conversions that neither start
/// nor end at F32 go through F32, as torch's do (so F64 -> BF16 rounds twice, exactly like torch).
///
/// The 8-bit floats (F8_E4M3 is torch's `float8_e4m3fn`, F8_E5M2 its `float8_e5m2`) are cast *from*
/// only, as torch's `.to()` casts them: widened exactly to F32 (every float8 value is an F32, and an
/// F16 and a BF16 too), then narrowed like any F32. No cast writes float8.
///
/// NaN bits follow torch's portable CPU kernels (`ATEN_CPU_CAPABILITY=default`), measured by the
/// fixture generator: F32 -> F16 keeps the sign and the top of the payload and sets the quiet bit;
/// F64 -> F16 and BF16 -> F16 keep only the sign (0x7E00 / 0xFE00); widening F16 -> F32 shifts the
/// payload and sets the quiet bit; BF16 -> F32 is a plain shift. (torch's AVX-512 kernels write other
/// NaN bits, e.g. 0xFFFF for F32 -> BF16; finite values agree everywhere.)
public enum FloatCast {
    /// The dtypes this type converts to (and from).
    public static let floatTypes: Set<DType> = [.f64, .f32, .f16, .bf16]
    /// The dtypes it converts from only.
    public static let float8Types: Set<DType> = [.f8e4m3, .f8e5m2]

    /// Whether `source` can be cast to `target`.
    public static func canCast(from source: DType, to target: DType) -> Bool {
        (floatTypes.contains(source) || float8Types.contains(source)) && floatTypes.contains(target)
    }

    /// Converts `count` elements from `source` (of dtype `from`) into `target` (of dtype `to`).
    ///
    /// `target` must hold `count * to.byteSize` bytes. Statistics are added to `statistics`.
    public static func convert(
        _ source: UnsafeRawPointer, from: DType, into target: UnsafeMutableRawPointer, to: DType, count: Int,
        statistics: inout CastStatistics
    ) {
        precondition(canCast(from: from, to: to), "no cast from \(from) to \(to)")
        if from == to {
            target.copyMemory(from: source, byteCount: count * from.byteSize)
            return
        }
        switch (from, to) {
        case (.f32, .bf16): f32ToBF16(source, target, count, &statistics)
        case (.f32, .f16): f32ToF16(source, target, count, keepNaNPayload: true, &statistics)
        case (.f32, .f64): f32ToF64(source, target, count)
        case (.f64, .f32): f64ToF32(source, target, count, &statistics)
        case (.bf16, .f32): bf16ToF32(source, target, count)
        case (.f16, .f32): f16ToF32(source, target, count)
        case (.f8e4m3, .f32): float8ToF32(source, target, count, table: Float8Table.e4m3)
        case (.f8e5m2, .f32): float8ToF32(source, target, count, table: Float8Table.e5m2)
        default:
            // Through an F32 scratch buffer, a chunk at a time.
            let chunk = 16_384
            withUnsafeTemporaryAllocation(byteCount: chunk * 4, alignment: 64) { buffer in
                guard let scratch = buffer.baseAddress else { return }
                var done = 0
                while done < count {
                    let n = min(chunk, count - done)
                    var widening = CastStatistics()
                    var narrowing = CastStatistics()
                    convert(
                        source + done * from.byteSize, from: from, into: scratch, to: .f32, count: n,
                        statistics: &widening)
                    if to == .f16 {
                        f32ToF16(scratch, target + done * to.byteSize, n, keepNaNPayload: false, &narrowing)
                    } else {
                        convert(
                            scratch, from: .f32, into: target + done * to.byteSize, to: to, count: n,
                            statistics: &narrowing
                        )
                    }
                    // A value lost in the first step is ±0 or ±inf in the second, so losses never count twice;
                    // NaNs pass through both steps, so count them once.
                    statistics.overflowToInfinity += widening.overflowToInfinity + narrowing.overflowToInfinity
                    statistics.underflowToZero += widening.underflowToZero + narrowing.underflowToZero
                    statistics.nanCount += max(widening.nanCount, narrowing.nanCount)
                    done += n
                }
            }
        }
    }

    // MARK: - Kernels

    private static func f32ToBF16(
        _ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int, _ statistics: inout CastStatistics
    ) {
        var counts = CZooKernels_CastCounts()
        CZooKernels_f32ToBF16(source, target, count, &counts)
        statistics.add(counts)
    }

    private static func f32ToF16(
        _ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int, keepNaNPayload: Bool,
        _ statistics: inout CastStatistics
    ) {
        var counts = CZooKernels_CastCounts()
        CZooKernels_f32ToF16(source, target, count, keepNaNPayload ? 1 : 0, &counts)
        statistics.add(counts)
    }

    // The widenings and fp64 -> fp32 run in C (`CZooKernels`): any alignment (a tensor's bytes
    // in a mapped file need not be aligned for its element type), and vectorised clones.

    private static func f16ToF32(_ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int) {
        CZooKernels_f16ToF32(source, target, count)
    }

    private static func float8ToF32(
        _ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int, table: [UInt32]
    ) {
        table.withUnsafeBufferPointer { bits in CZooKernels_float8ToF32(source, target, count, bits.baseAddress) }
    }

    private static func bf16ToF32(_ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int) {
        CZooKernels_bf16ToF32(source, target, count)
    }

    private static func f32ToF64(_ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int) {
        CZooKernels_f32ToF64(source, target, count)
    }

    private static func f64ToF32(
        _ source: UnsafeRawPointer, _ target: UnsafeMutableRawPointer, _ count: Int, _ statistics: inout CastStatistics
    ) {
        var counts = CZooKernels_CastCounts()
        CZooKernels_f64ToF32(source, target, count, &counts)
        statistics.add(counts)
    }
}

extension CastStatistics {
    fileprivate mutating func add(_ counts: CZooKernels_CastCounts) {
        overflowToInfinity += Int(counts.overflowToInfinity)
        underflowToZero += Int(counts.underflowToZero)
        nanCount += Int(counts.nanCount)
    }
}

/// The F32 bit pattern of each of the 256 values of a float8 format, as torch widens them.
enum Float8Table {
    /// `float8_e4m3fn`: 4 exponent bits (bias 7), 3 mantissa bits, no infinities; S.1111.111 is NaN,
    /// which torch widens to sign | 0x7FF00000 (its conversion moves the NaN's mantissa into place).
    static let e4m3: [UInt32] = (0..<256).map { byte in
        let sign = UInt32(byte & 0x80) << 24
        let exponent = (byte >> 3) & 0xF
        let mantissa = byte & 0x7
        if exponent == 0xF && mantissa == 0x7 { return sign | 0x7FF0_0000 }
        // Subnormals are m/8 * 2^-6; normals (1 + m/8) * 2^(e - 7). Both exact in F32.
        let magnitude =
            exponent == 0
            ? Float(mantissa) * 0x1p-9
            : Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 10, significand: 1)
        return sign | magnitude.bitPattern
    }

    /// `float8_e5m2`: the top byte of an F16 (5 exponent bits, 2 mantissa bits, infinities and
    /// NaNs as F16 has them), so it widens as that F16 does (a NaN gets its quiet bit set).
    static let e5m2: [UInt32] = (0..<256).map { byte in
        var half = UInt16(byte) << 8
        var single: UInt32 = 0
        withUnsafeMutableBytes(of: &half) { halfBytes in
            withUnsafeMutableBytes(of: &single) { singleBytes in
                guard let from = halfBytes.baseAddress, let to = singleBytes.baseAddress else { return }
                var ignored = CastStatistics()
                FloatCast.convert(from, from: .f16, into: to, to: .f32, count: 1, statistics: &ignored)
            }
        }
        return single
    }
}
