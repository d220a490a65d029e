internal import CZooKernels

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
        guard let input = floats.baseAddress, let output = target.baseAddress else { return nil }
        // In C for the AVX2/AVX-512 clones; the rounding rules are spelled out there.
        let first = CZooKernels_quantizeQ8_0(input, blocks, output)
        return first < 0 ? nil : Int(first)
    }

    /// Dequantizes whole blocks of `blocks` into `floats`, which must hold `blocks.count / 34 * 32`
    /// values.
    public static func dequantize(_ blocks: UnsafeRawBufferPointer, into floats: UnsafeMutableBufferPointer<Float>) {
        precondition(blocks.count % bytesPerBlock == 0, "Q8_0 input of \(blocks.count) bytes is not whole blocks")
        let count = blocks.count / bytesPerBlock
        precondition(floats.count == count * blockSize, "Q8_0 output of \(floats.count) values for \(count) blocks")
        guard let input = blocks.baseAddress, let output = floats.baseAddress else { return }
        CZooKernels_dequantizeQ8_0(input, count, output)
    }
}
