/// An F32, F16 or BF16 tensor quantized to Q8_0 as it streams, a few MB of whole blocks at a time.
public struct Q8_0QuantizingTensor: TensorByteSource {
    public let source: TensorRef
    public let outputSpec: TensorSpec

    /// Blocks per chunk: 16 Ki blocks read 2 MiB of F32 at a time.
    private static let blocksPerChunk = 1 << 14

    /// A source emitting `source` as Q8_0 under `name` (the source's name by default).
    ///
    /// - Returns: `nil` unless `source` is F32, F16 or BF16 and its rows (innermost dimension)
    ///   are whole blocks of 32.
    public init?(_ source: TensorRef, name: String? = nil) {
        guard [.f32, .f16, .bf16].contains(source.dtype),
            let spec = TensorSpec(name: name ?? source.name, dtype: .q8_0, shape: source.shape)
        else { return nil }
        self.source = source
        outputSpec = spec
    }

    /// - Throws: `GGUFError.nonFiniteValue` at the first NaN or infinity (Q8_0 cannot hold them),
    ///   or the source's read errors.
    public func emit(into sink: inout some ByteSink) throws {
        let from = source.dtype
        let blockBytes = Q8_0.blockSize * from.byteSize
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.blocksPerChunk * Q8_0.blockSize) { floats in
            var done = 0
            try source.forEachVerifiedChunk(chunkSize: Self.blocksPerChunk * blockBytes, alignment: blockBytes) {
                input in
                let count = input.count / from.byteSize
                let values = UnsafeMutableBufferPointer(rebasing: floats[0..<count])
                Self.widen(input, from: from, into: values)
                var nonFinite: Int?
                try sink.write(count: count / Q8_0.blockSize * Q8_0.bytesPerBlock) { output in
                    nonFinite = Q8_0.quantize(UnsafeBufferPointer(values), into: output)
                }
                if let nonFinite {
                    throw GGUFError.nonFiniteValue(
                        path: source.file.path, tensor: source.name, element: done + nonFinite)
                }
                done += count
            }
        }
    }

    /// F32, F16 or BF16 values widened (exactly) to F32.
    private static func widen(
        _ input: UnsafeRawBufferPointer, from: DType, into values: UnsafeMutableBufferPointer<Float>
    ) {
        // `values` holds exactly the elements of `input`, so every read is in range.
        let reader = ByteReader(input)
        for index in 0..<values.count {
            values[index] =
                switch from {
                case .f16: Float(Float16(bitPattern: reader.integer(at: 2 * index) ?? 0))
                case .bf16: Float(bitPattern: UInt32(reader.integer(at: 2 * index, as: UInt16.self) ?? 0) << 16)
                default: Float(bitPattern: reader.integer(at: 4 * index) ?? 0)
                }
        }
    }
}

/// A Q8_0 tensor dequantized to F32 as it streams, a few MB of whole blocks at a time.
public struct Q8_0DequantizingTensor: TensorByteSource {
    public let source: TensorRef
    public let outputSpec: TensorSpec

    /// Blocks per chunk: 16 Ki blocks write 2 MiB of F32 at a time.
    private static let blocksPerChunk = 1 << 14

    /// A source emitting the Q8_0 tensor `source` as F32 under `name` (the source's name by default).
    ///
    /// - Returns: `nil` unless `source` is Q8_0.
    public init?(_ source: TensorRef, name: String? = nil) {
        guard source.dtype == .q8_0, let spec = TensorSpec(name: name ?? source.name, dtype: .f32, shape: source.shape)
        else { return nil }
        self.source = source
        outputSpec = spec
    }

    public func emit(into sink: inout some ByteSink) throws {
        // A scratch buffer rather than the sink's: that one need not be aligned for `Float`.
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: Self.blocksPerChunk * Q8_0.blockSize) { floats in
            try source.forEachVerifiedChunk(
                chunkSize: Self.blocksPerChunk * Q8_0.bytesPerBlock, alignment: Q8_0.bytesPerBlock
            ) { input in
                let values = UnsafeMutableBufferPointer(
                    rebasing: floats[0..<(input.count / Q8_0.bytesPerBlock * Q8_0.blockSize)])
                Q8_0.dequantize(input, into: values)
                try sink.write(UnsafeRawBufferPointer(values))
            }
        }
    }
}
