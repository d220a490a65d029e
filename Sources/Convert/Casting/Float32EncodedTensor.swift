import Formats

/// A tensor whose values pass through float32 on their way out: produced as float32 by another
/// source (widened, dequantized from Q8_0, or transposed), optionally multiplied by a factor,
/// then encoded as `outputSpec.dtype` (F32, F16, BF16 or Q8_0) a chunk at a time.
///
/// It composes what the single-step sources cannot: a Mesh-TF kernel quantized to Q8_0, a Q8_0
/// weight cast to bf16, the rescaled tied head a GGUF output carries. The float32 stage is exact
/// (every source dtype widens to float32 without rounding), so the only rounding is the final
/// encoding's, the same as a direct cast or quantization of the source values.
public final class Float32EncodedTensor: TensorByteSource {
    /// The source tensor (for the report: what was cast from what).
    public let source: TensorRef
    public let outputSpec: TensorSpec
    /// Overflow, underflow and NaN counts of the last `emit` (of the F16 or BF16 encoding).
    public private(set) var statistics = CastStatistics()
    private let float32: any TensorByteSource
    private let scale: Float?
    /// Values gathered before each encoding: 16 Ki Q8_0 blocks, 2 MiB of float32.
    private static let chunkBytes = (1 << 14) * Q8_0.blockSize * 4

    /// `source` emitted as `dtype` under `name`, transposed and scaled when asked.
    ///
    /// - Returns: `nil` for a dtype other than F32, F16, BF16 and Q8_0, a source that is neither
    ///   a float nor Q8_0 (or not 2-D, to transpose), or a Q8_0 output whose rows are not whole
    ///   blocks of 32.
    public init?(_ source: TensorRef, to dtype: DType, name: String, transposed: Bool = false, scale: Float? = nil) {
        guard [.f32, .f16, .bf16, .q8_0].contains(dtype) else { return nil }
        let float32: (any TensorByteSource)? =
            if transposed {
                TransposingTensor(source, to: .f32, name: name)
            } else if source.dtype == .q8_0 {
                Q8_0DequantizingTensor(source, name: name)
            } else if source.dtype == .f32 {
                source.renamed(name)
            } else {
                CastingTensor(source, to: .f32, name: name)
            }
        guard let float32, let spec = TensorSpec(name: name, dtype: dtype, shape: float32.outputSpec.shape) else {
            return nil
        }
        self.source = source
        self.float32 = float32
        self.scale = scale
        outputSpec = spec
    }

    public func emit(into sink: inout some ByteSink) throws {
        try withUnsafeTemporaryAllocation(byteCount: Self.chunkBytes, alignment: 64) { buffer in
            var encoder = Float32EncodingSink(
                base: sink, to: outputSpec.dtype, scale: scale, buffer: buffer, path: source.file.path,
                tensor: outputSpec.name)
            try float32.emit(into: &encoder)
            try encoder.flush()
            statistics = encoder.statistics
            sink = encoder.base
        }
    }
}

/// Takes a stream of little-endian float32 values and writes them to `base` encoded as `dtype`,
/// scaled first when `scale` is given.
///
/// Values are gathered into whole chunks (a multiple of Q8_0's 32-value blocks, which run along
/// rows) whatever sizes the producer writes in, so the encoding never splits a block.
private struct Float32EncodingSink<Base: ByteSink>: ByteSink {
    var base: Base
    let dtype: DType
    let scale: Float?
    /// For the error about a value Q8_0 cannot hold.
    let path: String
    let tensor: String
    var statistics = CastStatistics()
    /// Floats waiting to be encoded (the caller owns the buffer), and how many bytes hold them.
    private let pending: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var encodedValues = 0

    init(
        base: Base, to dtype: DType, scale: Float?, buffer: UnsafeMutableRawBufferPointer, path: String, tensor: String
    ) {
        precondition(buffer.count % (Q8_0.blockSize * 4) == 0, "a chunk is whole Q8_0 blocks")
        self.base = base
        self.dtype = dtype
        self.scale = scale
        pending = buffer
        self.path = path
        self.tensor = tensor
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, pending.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: pending[filled..<(filled + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            filled += take
            offset += take
            if filled == pending.count { try encodePending() }
        }
    }

    /// Encodes what is left; a partial float or Q8_0 block left over means the producer emitted
    /// the wrong count, which the writer's byte count check reports.
    mutating func flush() throws {
        try encodePending()
    }

    private mutating func encodePending() throws {
        let count = filled / 4
        filled = 0
        guard count > 0, let start = pending.baseAddress else { return }
        let values = start.bindMemory(to: Float.self, capacity: count)
        if let scale { for index in 0..<count { values[index] *= scale } }
        let floats = UnsafeBufferPointer(start: values, count: count)
        // Locals: the closures below must not read `self` while `self.base` is being written to.
        let dtype = self.dtype
        switch dtype {
        case .q8_0:
            var nonFinite: Int?
            try self.base.write(count: count / Q8_0.blockSize * Q8_0.bytesPerBlock) { output in
                nonFinite = Q8_0.quantize(floats, into: output)
            }
            if let nonFinite {
                throw GGUFError.nonFiniteValue(path: path, tensor: tensor, element: encodedValues + nonFinite)
            }
        case .f32:
            try self.base.write(UnsafeRawBufferPointer(floats))
        default:
            var statistics = self.statistics
            try self.base.write(count: count * dtype.byteSize) { output in
                guard let target = output.baseAddress else { return }
                FloatCast.convert(start, from: .f32, into: target, to: dtype, count: count, statistics: &statistics)
            }
            self.statistics = statistics
        }
        encodedValues += count
    }
}
