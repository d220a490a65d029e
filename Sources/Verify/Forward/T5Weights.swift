import Convert
import Formats

/// A weight matrix borrowed from `T5Weights`' reusable buffer: valid only inside the closure that
/// received it.
struct WeightView {
    let rows: Int
    let columns: Int
    let values: UnsafeBufferPointer<Float>
}

/// Reads a T5 checkpoint's weights as `Float` matrices, one at a time, straight from its file.
///
/// Nothing is cached: the forward pass asks for a layer's weights when it runs that layer and
/// drops them after, so memory holds one layer plus activations whatever the model's size. The
/// weights land in one buffer that is reused from weight to weight, so a pass does not ask the
/// kernel for (and fault in) fresh pages for every matrix.
final class T5Weights {
    let checkpoint: Checkpoint
    let config: T5Config
    private let byName: [String: TensorRef]
    private var floats = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)
    private var raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 64)

    init(checkpoint: Checkpoint, config: T5Config) {
        self.checkpoint = checkpoint
        self.config = config
        byName = Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    deinit {
        floats.deallocate()
        raw.deallocate()
    }

    /// The tied embedding, or the untied LM head, whichever produces the logits.
    var outputEmbeddingName: String { config.tieWordEmbeddings ? TiedEmbeddings.canonical : TiedEmbeddings.lmHead }

    /// The input embedding of `stack` ("encoder" or "decoder"): its own `embed_tokens` when the
    /// checkpoint holds one (a tied copy is equal to `shared.weight`; transformers 5 writes untied
    /// ones as matrices of their own), else the shared embedding.
    func inputEmbeddingName(_ stack: String) -> String {
        let own = "\(stack).embed_tokens.weight"
        return byName[own] == nil ? TiedEmbeddings.canonical : own
    }

    /// Calls `body` with the tensor `name` (a vector is a 1-row matrix), widened to `Float`.
    func withMatrix<Result>(_ name: String, _ body: (WeightView) throws -> Result) throws -> Result {
        let tensor = try self.tensor(name)
        let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
        return try withRows(name, 0..<rows, body)
    }

    /// Calls `body` with rows `rows` of the 2-D tensor `name` (embedding rows, a block of the LM head).
    func withRows<Result>(_ name: String, _ rows: Range<Int>, _ body: (WeightView) throws -> Result) throws -> Result {
        let tensor = try self.tensor(name)
        let columns = tensor.shape.count == 2 ? tensor.shape[1] : tensor.spec.elementCount
        let count = rows.count * columns
        let itemSize = tensor.dtype.byteSize
        let start = tensor.fileOffset + rows.lowerBound * columns * itemSize
        let range = start..<(start + count * itemSize)
        if floats.count < count {
            floats.deallocate()
            floats = .allocate(capacity: count)
        }
        guard let target = floats.baseAddress else {
            return try body(
                WeightView(rows: rows.count, columns: columns, values: UnsafeBufferPointer(start: nil, count: 0)))
        }
        if tensor.dtype == .f32 {
            try tensor.file.read(range, into: target)
        } else {
            if raw.count < range.count {
                raw.deallocate()
                raw = .allocate(byteCount: range.count, alignment: 64)
            }
            guard let staging = raw.baseAddress else {
                return try body(WeightView(rows: 0, columns: columns, values: .init(start: nil, count: 0)))
            }
            try tensor.file.read(range, into: staging)
            var ignored = CastStatistics()
            FloatCast.convert(staging, from: tensor.dtype, into: target, to: .f32, count: count, statistics: &ignored)
        }
        return try body(
            WeightView(rows: rows.count, columns: columns, values: UnsafeBufferPointer(start: target, count: count)))
    }

    /// A small tensor (a norm's scale, the bias table) copied out as a matrix of its own.
    func matrix(_ name: String) throws -> Matrix {
        try withMatrix(name) { Matrix(rows: $0.rows, columns: $0.columns, values: Array($0.values)) }
    }

    private func tensor(_ name: String) throws -> TensorRef {
        guard let tensor = byName[name] else {
            throw ConvertError.missingTensor(path: checkpoint.location.path, tensor: name)
        }
        guard FloatCast.canCast(from: tensor.dtype, to: .f32) else {
            throw ConvertError.unsupportedCast(tensor: name, from: tensor.dtype.rawValue, to: "F32")
        }
        return tensor
    }
}
