import Convert
import Formats

/// A weight matrix borrowed from `T5Weights`' reusable buffer: valid only inside the closure that
/// received it. `rows` x `columns` is the shape as stored: `[out, in]` for a transformers linear
/// layer, `[in, out]` (`transposed`) for a Mesh-TF kernel.
struct WeightView {
    let rows: Int
    let columns: Int
    let transposed: Bool
    let values: UnsafeBufferPointer<Float>
}

/// Reads a T5 checkpoint's weights as `Float` matrices, one at a time, straight from its file,
/// under the checkpoint's own names and in its own layout (see `T5Naming`).
///
/// Nothing is cached: the forward pass asks for a layer's weights when it runs that layer and
/// drops them after, so memory holds one layer plus activations whatever the model's size. The
/// weights land in one buffer that is reused from weight to weight, so a pass does not ask the
/// kernel for (and fault in) fresh pages for every matrix.
final class T5Weights {
    let checkpoint: Checkpoint
    let config: T5Config
    let naming: T5Naming
    private let byName: [String: TensorRef]
    /// The weights handed to the pass, and their stored bytes.
    private let buffers = Buffers()
    /// Reads the matrices of the pass ahead of it (see `startPrefetching`).
    private var prefetcher: WeightPrefetcher?

    init(checkpoint: Checkpoint, config: T5Config) {
        self.checkpoint = checkpoint
        self.config = config
        naming = T5Naming.of(checkpoint)
        byName = Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Starts reading the pass's matrix products' weights ahead of it, block by block, in the
    /// order it multiplies them (`T5Parameter.linearOrder`); a weight that cannot be found is left
    /// to the pass, which then reports it.
    ///
    /// - Parameter sharingProducts: whether the prefetching thread multiplies too (see
    ///   `T5ForwardPass.Cores`); it then reads smaller blocks into more buffers.
    func startPrefetching(sharingProducts: Bool) {
        blockBytes = sharingProducts ? 512 << 10 : 1 << 20
        let blocks = T5Parameter.linearOrder(config).flatMap { parameter in
            (try? stored(parameter)).map { weight in rowBlocks(of: weight).map { (parameter, weight, $0) } } ?? []
        }
        prefetcher = WeightPrefetcher(blocks, slots: sharingProducts ? 6 : 3, multiplies: sharingProducts)
    }

    /// The tied embedding, or the untied LM head, whichever produces the logits.
    var outputEmbedding: T5Parameter { config.tieWordEmbeddings ? .sharedEmbedding : .lmHead }

    /// Where the checkpoint keeps `parameter`.
    ///
    /// - Throws: `ConvertError.missingTensor` when it holds no such tensor, `.unsupportedCast`
    ///   when its dtype cannot be read as `Float`.
    func stored(_ parameter: T5Parameter) throws -> StoredWeight {
        let location = naming.location(of: parameter) { byName[$0] != nil }
        guard let tensor = byName[location.name] else {
            throw ConvertError.missingTensor(path: checkpoint.location.path, tensor: location.name)
        }
        guard FloatCast.canCast(from: tensor.dtype, to: .f32) || tensor.dtype == .q8_0 else {
            throw ConvertError.unsupportedCast(tensor: location.name, from: tensor.dtype.rawValue, to: "F32")
        }
        return StoredWeight(tensor: tensor, transposed: location.transposed)
    }

    /// Calls `body` with the whole of `parameter` as stored (a vector is a 1-row matrix), widened
    /// to `Float`.
    func withMatrix<Result>(_ parameter: T5Parameter, _ body: (WeightView) throws -> Result) throws -> Result {
        let weight = try stored(parameter)
        let rows = weight.tensor.shape.count == 2 ? weight.tensor.shape[0] : 1
        return try withRows(of: weight, 0..<rows, body)
    }

    /// At most this many bytes of `Float`s per block of a weight the pass multiplies: memory holds
    /// a few blocks, not a few whole matrices, whatever the model's size (an xl model's
    /// feed-forward matrix is 67 MB in fp32). Blocks that fit the second-level cache are read
    /// into it and multiplied (or packed by BLAS) from it (`zoo verify` of the large-dm128 shape took about 10%
    /// less CPU time with 1 MB blocks than with 4 MB ones). A pass whose prefetching thread
    /// multiplies too reads 512 KB blocks, which give that thread more of them to take (`zoo run`
    /// of that shape: 0.072-0.077 s a pass against 0.077-0.080 s with 1 MB; 256 KB was no faster).
    private(set) var blockBytes = 1 << 20

    /// The row ranges `weight` is read in, each at most `blockBytes` of `Float`s (at least one row).
    func rowBlocks(of weight: StoredWeight) -> [Range<Int>] {
        let rows = weight.tensor.shape.count == 2 ? weight.tensor.shape[0] : 1
        let columns = weight.tensor.shape.count == 2 ? weight.tensor.shape[1] : weight.tensor.spec.elementCount
        let step = max(1, blockBytes / max(4 * columns, 1))
        return stride(from: 0, to: rows, by: step).map { $0..<min($0 + step, rows) }
    }

    /// Calls `body` with each block of rows of `parameter` as stored (`rowBlocks(of:)`), in order:
    /// from the prefetcher when it read them ahead, else read here.
    func forEachRowBlock(_ parameter: T5Parameter, _ body: (WeightView, Range<Int>) throws -> Void) throws {
        let weight = try stored(parameter)
        for block in rowBlocks(of: weight) {
            if try prefetcher?.withNext(parameter, block, { try body($0, block) }) != nil { continue }
            try withRows(of: weight, block) { try body($0, block) }
        }
    }

    /// The products `input · Wᵀ` (`input · W` for a Mesh-TF kernel) of independent requests, in
    /// order. With the prefetcher running and every weight stored `[out, in]`, its thread
    /// multiplies some of the blocks (`WeightPrefetcher.multiplyAll`); the results are the same
    /// either way, block for block.
    func products(_ requests: [(input: Matrix, parameter: T5Parameter)]) throws -> [Matrix] {
        let weights = try requests.map { try stored($0.parameter) }
        let outputCounts = weights.map { weight in
            let shape = weight.tensor.shape
            return shape.count == 2 ? (weight.transposed ? shape[1] : shape[0]) : 1
        }
        guard let prefetcher, prefetcher.multiplies, !weights.contains(where: \.transposed) else {
            // A Mesh-TF kernel's blocks add into the output, which starts at zero.
            var outputs = zip(requests, outputCounts).map { Matrix(zeros: $0.input.rows, $1) }
            for index in requests.indices {
                try forEachRowBlock(requests[index].parameter) { view, block in
                    requests[index].input.multiply(view, block: block, into: &outputs[index])
                }
            }
            return outputs
        }
        // Buffers of their own for the two threads (the Matrix arrays may not be shared), left
        // uninitialised: the blocks of a weight stored `[out, in]` write every output column.
        let inputs = requests.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.input.values.count) }
        let results = zip(requests, outputCounts).map {
            UnsafeMutableBufferPointer<Float>.allocate(capacity: $0.input.rows * $1)
        }
        defer { (inputs + results).forEach { $0.deallocate() } }
        for index in requests.indices { _ = inputs[index].initialize(from: requests[index].input.values) }
        let group = ProductGroup(
            requests.indices.map { index in
                ProductGroup.Product(
                    parameter: requests[index].parameter, input: UnsafeBufferPointer(inputs[index]),
                    rows: requests[index].input.rows, columns: requests[index].input.columns, output: results[index],
                    outputs: outputCounts[index])
            })
        let blocks = zip(requests, weights).flatMap { request, weight in
            rowBlocks(of: weight).map { (parameter: request.parameter, rows: $0) }
        }
        try prefetcher.multiplyAll(group, blocks: blocks) { parameter, rows in
            guard let index = requests.firstIndex(where: { $0.parameter == parameter }) else { return }
            try withRows(of: weights[index], rows) { view in group.multiply(view, of: parameter, block: rows) }
        }
        return requests.indices.map { index in
            Matrix(rows: requests[index].input.rows, columns: outputCounts[index], values: Array(results[index]))
        }
    }

    /// Calls `body` with rows `rows` of `parameter`, which must be stored untransposed (embedding
    /// rows, a block of the LM head).
    func withRows<Result>(_ parameter: T5Parameter, _ rows: Range<Int>, _ body: (WeightView) throws -> Result) throws
        -> Result
    {
        let weight = try stored(parameter)
        precondition(!weight.transposed, "rows of a transposed weight are not contiguous")
        return try withRows(of: weight, rows, body)
    }

    /// A small parameter (a norm's scale, the bias table) copied out as a matrix of its own, in
    /// transformers' orientation.
    func matrix(_ parameter: T5Parameter) throws -> Matrix {
        try withMatrix(parameter) { view in
            guard view.transposed else {
                return Matrix(rows: view.rows, columns: view.columns, values: Array(view.values))
            }
            var result = Matrix(zeros: view.columns, view.rows)
            for row in 0..<view.rows {
                for column in 0..<view.columns { result[column, row] = view.values[row * view.columns + column] }
            }
            return result
        }
    }

    private func withRows<Result>(of weight: StoredWeight, _ rows: Range<Int>, _ body: (WeightView) throws -> Result)
        throws -> Result
    {
        try body(Self.read(weight, rows: rows, into: buffers))
    }

    /// The buffers a block of weights is read into: the stored bytes (a narrower dtype's), and
    /// the `Float`s handed to the pass.
    final class Buffers {
        let stored = ScratchBuffer()
        let floats = ScratchBuffer()
    }

    /// Reads rows `rows` of `weight` widened to `Float` into `buffers`, and returns the view of
    /// them (valid until `buffers` is used again).
    ///
    /// Read with `pread`, not through the file's mapping: the weights are copied once either
    /// way, and a mapping's pages must be faulted in and released again (to keep the resident set
    /// small), each release a TLB shootdown on the other core. `zoo run` of the large-dm128 shape:
    /// 0.077 s a pass against 0.097 s through the mapping (measured with AVX-512 OpenBLAS kernels).
    ///
    /// - Throws: `CheckpointError` when the read fails or comes up short.
    static func read(_ weight: StoredWeight, rows: Range<Int>, into buffers: Buffers) throws -> WeightView {
        let tensor = weight.tensor
        let columns = tensor.shape.count == 2 ? tensor.shape[1] : tensor.spec.elementCount
        let count = rows.count * columns
        // Whole rows of whole blocks: a Q8_0 row is `columns / 32` blocks of 34 bytes.
        let rowBytes = columns / tensor.dtype.elementsPerBlock * tensor.dtype.bytesPerBlock
        let start = tensor.fileOffset + rows.lowerBound * rowBytes
        let range = start..<(start + rows.count * rowBytes)
        let values = buffers.floats.floats(count)
        let view = WeightView(rows: rows.count, columns: columns, transposed: weight.transposed, values: .init(values))
        guard let target = values.baseAddress, !range.isEmpty else { return view }
        // `Float`s land where the pass reads them; other dtypes are widened from a buffer of
        // their own (in the cache: a block is at most `blockBytes` of `Float`s).
        if tensor.dtype == .f32 {
            try tensor.file.read(range, into: UnsafeMutableRawPointer(target))
            return view
        }
        let stored = buffers.stored.bytes(range.count)
        guard let bytes = stored.baseAddress else { return view }
        try tensor.file.read(range, into: bytes)
        switch tensor.dtype {
        case .q8_0: Q8_0.dequantize(UnsafeRawBufferPointer(stored), into: values)
        default:
            var ignored = CastStatistics()
            FloatCast.convert(
                UnsafeRawPointer(bytes), from: tensor.dtype, into: target, to: .f32, count: count, statistics: &ignored)
        }
        return view
    }
}
