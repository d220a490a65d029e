import Formats

/// A tensor emitted in another float dtype, cast a chunk at a time straight from the mapped source.
///
/// Memory stays bounded by the chunk, not the tensor. After `emit`, `statistics` holds what the
/// cast did to this tensor's values.
public final class CastingTensor: TensorByteSource {
    public let source: TensorRef
    public let outputSpec: TensorSpec
    /// Overflow, underflow and NaN counts of the last `emit`.
    public private(set) var statistics = CastStatistics()

    /// Elements per chunk: big enough to amortise the write call, small enough to stay in cache.
    private static let chunkElements = 1 << 18

    /// A source emitting `source` as `dtype`, under `name` (the source's name by default).
    ///
    /// - Returns: `nil` unless both dtypes are ones `FloatCast` converts.
    public init?(_ source: TensorRef, to dtype: DType, name: String? = nil) {
        guard FloatCast.canCast(from: source.dtype, to: dtype),
            let spec = TensorSpec(name: name ?? source.name, dtype: dtype, shape: source.shape)
        else { return nil }
        self.source = source
        self.outputSpec = spec
    }

    public func emit(into sink: inout some ByteSink) throws {
        var statistics = CastStatistics()
        let from = source.dtype
        let to = outputSpec.dtype
        let count = source.spec.elementCount
        let chunk = min(Self.chunkElements, max(count, 1))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk * to.byteSize, alignment: 64)
        defer { buffer.deallocate() }
        source.file.adviseSequential(source.byteRange)
        try source.withUnsafeBytes { input in
            guard let inputBase = input.baseAddress, let outputBase = buffer.baseAddress else { return }
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                FloatCast.convert(
                    inputBase + done * from.byteSize, from: from, into: outputBase, to: to, count: n,
                    statistics: &statistics)
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[0..<(n * to.byteSize)]))
                // Read pages count towards the resident set; drop them (they stay in the page cache).
                let consumed = source.fileOffset + done * from.byteSize
                source.file.releasePages(in: consumed..<(consumed + n * from.byteSize))
                done += n
            }
        }
        self.statistics = statistics
    }
}
