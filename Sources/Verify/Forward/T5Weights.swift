import Convert
import Formats

/// Reads a T5 checkpoint's weights as `Float` matrices, one at a time, straight from its file.
///
/// Nothing is cached: the forward pass asks for a layer's weights when it runs that layer and
/// drops them after, so memory holds one layer plus activations whatever the model's size.
struct T5Weights {
    let checkpoint: Checkpoint
    let config: T5Config
    private let byName: [String: TensorRef]

    init(checkpoint: Checkpoint, config: T5Config) {
        self.checkpoint = checkpoint
        self.config = config
        byName = Dictionary(checkpoint.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tensor `name` as a matrix (a vector is a 1-row matrix), widened to `Float`.
    func matrix(_ name: String) throws -> Matrix {
        let tensor = try self.tensor(name)
        let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
        return Matrix(
            rows: rows, columns: tensor.spec.elementCount / max(rows, 1), values: try floats(tensor, rows: 0..<rows))
    }

    /// Rows `rows` of the 2-D tensor `name` (embedding rows for some token ids, a block of the LM head).
    func rows(_ name: String, _ rows: Range<Int>) throws -> Matrix {
        let tensor = try self.tensor(name)
        let columns = tensor.shape.count == 2 ? tensor.shape[1] : tensor.spec.elementCount
        return Matrix(rows: rows.count, columns: columns, values: try floats(tensor, rows: rows))
    }

    /// The tied embedding, or the untied LM head, whichever produces the logits.
    var outputEmbeddingName: String { config.tieWordEmbeddings ? TiedEmbeddings.canonical : TiedEmbeddings.lmHead }

    private func tensor(_ name: String) throws -> TensorRef {
        guard let tensor = byName[name] else {
            throw ConvertError.missingTensor(path: checkpoint.location.path, tensor: name)
        }
        guard FloatCast.canCast(from: tensor.dtype, to: .f32) else {
            throw ConvertError.unsupportedCast(tensor: name, from: tensor.dtype.rawValue, to: "F32")
        }
        return tensor
    }

    private func floats(_ tensor: TensorRef, rows: Range<Int>) throws -> [Float] {
        let columns = tensor.shape.count == 2 ? tensor.shape[1] : tensor.spec.elementCount
        let count = rows.count * columns
        let itemSize = tensor.dtype.byteSize
        let start = tensor.fileOffset + rows.lowerBound * columns * itemSize
        var raw = [UInt8](repeating: 0, count: count * itemSize)
        try raw.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            try tensor.file.read(start..<(start + count * itemSize), into: base)
        }
        var values = [Float](repeating: 0, count: count)
        var ignored = CastStatistics()
        raw.withUnsafeBytes { source in
            values.withUnsafeMutableBytes { target in
                guard let from = source.baseAddress, let to = target.baseAddress else { return }
                FloatCast.convert(from, from: tensor.dtype, into: to, to: .f32, count: count, statistics: &ignored)
            }
        }
        return values
    }
}
