/// ggml's Q8_0 block quantization, bit for bit as gguf-py's `quants.Q8_0` and ggml's
/// `quantize_row_q8_0_ref` compute it.
///
/// A block is 32 consecutive values along a row: `d = max|x| / 127` in float32, `q = round(x / d)`
/// computed as `x * (1 / d)` (0 when `d` is 0) and rounded half away from zero, stored as `d` in
/// fp16 (round to nearest even, little-endian) followed by the 32 `q` as `int8`. A value is `q * d`
/// (in float32) when read back.
///
/// Non-finite inputs are encoded exactly as numpy encodes them (a NaN or infinite scale, and 0 for
/// every `q` whose `x / d` is not finite), but `quantize` reports the first one, and the byte
/// sources (`Q8_0QuantizingTensor`) refuse them: Q8_0 cannot hold NaN or infinity, and the numpy
/// encoding turns a whole block into NaN when read back. Blocks whose largest magnitude is below
/// about 3.7e-37 (so that `1 / d` overflows) come out all zero, as in numpy.
public enum Q8_0 {
    /// Values per block.
    public static let blockSize = 32
    /// Bytes per block: the fp16 scale and 32 `int8`.
    public static let bytesPerBlock = 34

    /// Quantizes `floats` (a whole number of blocks) into `target`, which must hold
    /// `floats.count / 32 * 34` bytes.
    ///
    /// - Returns: the index in `floats` of the first NaN or infinity, or `nil` if all are finite.
    @discardableResult
    public static func quantize(_ floats: UnsafeBufferPointer<Float>, into target: UnsafeMutableRawBufferPointer)
        -> Int?
    {
        precondition(floats.count % blockSize == 0, "Q8_0 input of \(floats.count) values is not whole blocks")
        let blocks = floats.count / blockSize
        precondition(
            target.count == blocks * bytesPerBlock, "Q8_0 output of \(target.count) bytes for \(blocks) blocks")
        var firstNonFinite: Int?
        for block in 0..<blocks {
            let base = block * blockSize
            var amax: Float = 0
            for index in base..<(base + blockSize) {
                let magnitude = abs(floats[index])
                // numpy's max propagates NaN; `a > b ? a : b` would not.
                if magnitude.isNaN || amax.isNaN { amax = .nan } else if magnitude > amax { amax = magnitude }
                if firstNonFinite == nil && !floats[index].isFinite { firstNonFinite = index }
            }
            let d = amax / 127
            let inverse: Float = d == 0 ? 0 : 1 / d
            let out = block * bytesPerBlock
            target.storeBytes(of: Float16(d).bitPattern.littleEndian, toByteOffset: out, as: UInt16.self)
            for index in 0..<blockSize {
                let scaled = floats[base + index] * inverse
                target[out + 2 + index] = UInt8(bitPattern: quantized(scaled))
            }
        }
        return firstNonFinite
    }

    /// Dequantizes whole blocks of `blocks` into `floats`, which must hold `blocks.count / 34 * 32`
    /// values.
    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into floats: UnsafeMutableBufferPointer<Float>) {
        precondition(blocks.count % bytesPerBlock == 0, "Q8_0 input of \(blocks.count) bytes is not whole blocks")
        let count = blocks.count / bytesPerBlock
        precondition(floats.count == count * blockSize, "Q8_0 output of \(floats.count) values for \(count) blocks")
        let reader = ByteReader(blocks)
        for block in 0..<count {
            let start = block * bytesPerBlock
            let d = Float(Float16(bitPattern: reader.integer(at: start, as: UInt16.self) ?? 0))
            for index in 0..<blockSize {
                floats[block * blockSize + index] = Float(Int8(bitPattern: blocks[start + 2 + index])) * d
            }
        }
    }

    /// `scaled` rounded half away from zero to an `int8`, as numpy's `np_roundf` then
    /// `astype(np.int8)` give it on x86: a value that is not finite (or beyond 32 bits) becomes
    /// 0, the low byte of x86's 0x80000000 "integer indefinite". Finite values are within ±127.5.
    private static func quantized(_ scaled: Float) -> Int8 {
        guard scaled.isFinite, abs(scaled) < 2_147_483_648 else { return 0 }
        return Int8(truncatingIfNeeded: Int32(scaled.rounded(.toNearestOrAwayFromZero)))
    }
}
