internal import CZooKernels
import Formats

/// A 2-D tensor emitted transposed (`[rows, columns]` in, `[columns, rows]` out), optionally cast
/// to another float dtype on the way: Mesh-TF stores kernels as `[in, out]`, transformers as `[out, in]`.
///
/// The source is read once into memory of its own (its stored checksum checked on the way), then
/// output rows are gathered a block at a time: memory is one tensor plus one block. A Q8_0 source
/// (a GGUF weight becoming a Mesh-TF kernel) is dequantized to F32 as it is read into that memory.
public final class TransposingTensor: TensorByteSource {
    public let source: TensorRef
    public let outputSpec: TensorSpec
    /// The dtype of the values in memory: the source's, or F32 for a dequantized Q8_0 source.
    private let inputDType: DType
    /// Overflow, underflow and NaN counts of the last `emit` (zero unless it casts).
    public private(set) var statistics = CastStatistics()

    /// Output bytes gathered per block: large enough to amortise the sink's write call.
    private static let blockBytes = 1 << 20

    /// A source emitting the transpose of the 2-D `source` as `dtype` under `name`.
    ///
    /// - Returns: `nil` unless `source` is 2-D, of a 2, 4 or 8-byte dtype, and `dtype` is its own
    ///   or one `FloatCast` converts it to.
    ///   A Q8_0 source is dequantized to F32 first, so `dtype` is then F32 or one F32 casts to.
    public init?(_ source: TensorRef, to dtype: DType? = nil, name: String) {
        let input: DType = source.dtype == .q8_0 ? .f32 : source.dtype
        let dtype = dtype ?? input
        guard source.shape.count == 2, [2, 4, 8].contains(input.byteSize),
            dtype == input || FloatCast.canCast(from: input, to: dtype),
            let spec = TensorSpec(name: name, dtype: dtype, shape: [source.shape[1], source.shape[0]])
        else { return nil }
        self.source = source
        inputDType = input
        outputSpec = spec
    }

    public func emit(into sink: inout some ByteSink) throws {
        let rows = source.shape[0]
        let columns = source.shape[1]
        let from = inputDType
        let to = outputSpec.dtype
        // The source is read once, sequentially chunk by chunk (its checksum checked on the way), into
        // memory of its own: a transpose needs random access, and gathering from the file mapping
        // instead would leave the whole checkpoint resident. Memory: the largest transposed tensor.
        try withUnsafeTemporaryAllocation(byteCount: max(rows * columns * from.byteSize, 1), alignment: 64) { matrix in
            var filling = MatrixFill(matrix)
            if let dequantizing = Q8_0DequantizingTensor(source) {
                try dequantizing.emit(into: &filling)
            } else {
                try source.forEachVerifiedChunk { try filling.write($0) }
            }
            guard rows > 0, columns > 0, let input = matrix.baseAddress else { return }

            // Output row j is source column j; gather a block of output rows at a time.
            let outputRowsPerBlock = max(1, Self.blockBytes / (rows * from.byteSize))
            try withUnsafeTemporaryAllocation(byteCount: outputRowsPerBlock * rows * from.byteSize, alignment: 64) {
                scratch in
                guard let scratchBase = scratch.baseAddress else { return }
                var statistics = CastStatistics()
                var firstRow = 0
                while firstRow < columns {
                    let blockRows = min(outputRowsPerBlock, columns - firstRow)
                    let count = blockRows * rows
                    Self.gather(
                        from: UnsafeRawPointer(input), rows: rows, columns: columns,
                        outputRows: firstRow..<(firstRow + blockRows), into: scratchBase, elementSize: from.byteSize)
                    if from == to {
                        try sink.write(UnsafeRawBufferPointer(start: scratchBase, count: count * from.byteSize))
                    } else {
                        try sink.write(count: count * to.byteSize) { output in
                            guard let outputBase = output.baseAddress else { return }
                            FloatCast.convert(
                                UnsafeRawPointer(scratchBase), from: from, into: outputBase, to: to, count: count,
                                statistics: &statistics)
                        }
                    }
                    firstRow += blockRows
                }
                self.statistics = statistics
            }
        }
    }

    /// Writes `outputRows` of the transpose of the `[rows, columns]` matrix at `input` to `output`.
    static func gather(
        from input: UnsafeRawPointer, rows: Int, columns: Int, outputRows: Range<Int>,
        into output: UnsafeMutableRawPointer, elementSize: Int
    ) {
        precondition([2, 4, 8].contains(elementSize), "gather of \(elementSize)-byte elements")
        CZooKernels_gatherColumns(
            input, rows, columns, outputRows.lowerBound, outputRows.count, output, elementSize)
    }
}

/// Writes a tensor's bytes, in order, into the memory a transpose gathers from.
private struct MatrixFill: ByteSink {
    let matrix: UnsafeMutableRawBufferPointer
    var filled = 0

    init(_ matrix: UnsafeMutableRawBufferPointer) { self.matrix = matrix }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(filled + bytes.count <= matrix.count, "more bytes than the tensor holds")
        UnsafeMutableRawBufferPointer(rebasing: matrix[filled..<(filled + bytes.count)]).copyMemory(from: bytes)
        filled += bytes.count
    }
}
