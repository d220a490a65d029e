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
        let chunk = min(Self.chunkElements, max(source.spec.elementCount, 1))
        try source.forEachVerifiedChunk(chunkSize: chunk * from.byteSize, alignment: from.byteSize) { input in
            guard let inputBase = input.baseAddress else { return }
            let count = input.count / from.byteSize
            // Cast straight into the sink's buffer: no copy of the output.
            try sink.write(count: count * to.byteSize) { output in
                guard let outputBase = output.baseAddress else { return }
                FloatCast.convert(
                    inputBase, from: from, into: outputBase, to: to, count: count, statistics: &statistics)
            }
        }
        self.statistics = statistics
    }
}
