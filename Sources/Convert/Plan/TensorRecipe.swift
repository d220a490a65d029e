import Formats

/// How one output tensor is made: the source tensor, the transforms its values go through, and
/// the spec it is written as. The plan makes one per output tensor; the writer executes it
/// (`emitted()`) and the cast statistics come from what it emitted.
public struct TensorRecipe: Sendable {
    /// One step of the way from the source's bytes to the output's, in the order they apply.
    public enum Transform: Sendable, Equatable {
        /// Q8_0 blocks expanded to float32.
        case dequantize
        /// `[rows, columns]` becomes `[columns, rows]` (Mesh-TF kernels are `[in, out]`).
        case transpose
        /// Every value multiplied by a factor, in float32 (the rescaled tied head of a GGUF output).
        case scale(Float)
        /// Rounded to another float dtype.
        case cast(to: DType)
        /// Encoded as a block-quantized dtype (Q8_0).
        case quantize(to: DType)
    }

    public let source: TensorRef
    public let output: TensorSpec
    /// Transposed on the way (a Mesh-TF kernel becoming a transformers weight, or back).
    public let transposed: Bool
    /// Multiplied by this on the way (the rescaled tied head of a GGUF output).
    public let scale: Float?
    /// Which byte source makes the output: decided once, here, for planning and writing alike.
    private let route: Route

    /// The recipe making `source` into a tensor `name` of `shape` and `dtype`, transposed and
    /// scaled when asked; `nil` when no byte source can make it (a cast between dtypes that have
    /// none, a transpose of something that is not a matrix, Q8_0 rows that are not whole blocks).
    init?(source: TensorRef, name: String, shape: [Int], dtype: DType, transposed: Bool = false, scale: Float? = nil) {
        guard let output = TensorSpec(name: name, dtype: dtype, shape: shape) else { return nil }
        let route = Route(from: source.dtype, to: dtype, transposed: transposed, scaled: scale != nil)
        self.source = source
        self.output = output
        self.transposed = transposed
        self.scale = scale
        self.route = route
        guard emitter() != nil else { return nil }
    }

    /// The transforms in the order they apply (empty for a copy, a rename included).
    public var transforms: [Transform] {
        var steps: [Transform] = []
        if source.dtype == .q8_0 && (output.dtype != .q8_0 || transposed) { steps.append(.dequantize) }
        if transposed { steps.append(.transpose) }
        if let scale { steps.append(.scale(scale)) }
        if output.dtype.isBlockQuantized && (output.dtype != source.dtype || steps.contains(.dequantize)) {
            steps.append(.quantize(to: output.dtype))
        } else if output.dtype != (steps.contains(.dequantize) ? .f32 : source.dtype) {
            steps.append(.cast(to: output.dtype))
        }
        return steps
    }

    /// The bytes to write, and the statistics of the cast once they have been written.
    func emitted() -> EmittedTensor {
        guard let emitted = emitter() else { preconditionFailure("\(output.name): checked when the recipe was made") }
        return emitted
    }

    /// The byte source `route` names, or `nil` when it cannot make `output` of `source`.
    private func emitter() -> EmittedTensor? {
        let casts = output.dtype != source.dtype
        let name = output.name
        switch route {
        case .throughFloat32:
            guard
                let encoded = Float32EncodedTensor(
                    source, to: output.dtype, name: name, transposed: transposed, scale: scale)
            else { return nil }
            return EmittedTensor(
                bytes: encoded, sourceDType: source.dtype, castStatistics: casts ? { encoded.statistics } : nil)
        case .transpose:
            guard let transposing = TransposingTensor(source, to: output.dtype, name: name) else { return nil }
            return EmittedTensor(
                bytes: transposing, sourceDType: source.dtype,
                castStatistics: casts ? { transposing.statistics } : nil)
        case .cast:
            guard let casting = CastingTensor(source, to: output.dtype, name: name) else { return nil }
            return EmittedTensor(bytes: casting, sourceDType: source.dtype, castStatistics: { casting.statistics })
        case .copy:
            guard output.shape == source.shape else { return nil }
            return EmittedTensor(
                bytes: source.name == name ? source : source.renamed(name), sourceDType: source.dtype,
                castStatistics: nil)
        }
    }

    /// The byte source that makes a recipe's output.
    private enum Route: Sendable {
        /// `Float32EncodedTensor`: whatever goes into or out of Q8_0, or is scaled.
        case throughFloat32
        /// `TransposingTensor`, casting on the way when asked.
        case transpose
        /// `CastingTensor`.
        case cast
        /// The source's bytes as they are, under the output's name.
        case copy

        init(from: DType, to: DType, transposed: Bool, scaled: Bool) {
            if (from == .q8_0) != (to == .q8_0) || scaled || (transposed && from == .q8_0) {
                self = .throughFloat32
            } else if transposed {
                self = .transpose
            } else if from != to {
                self = .cast
            } else {
                self = .copy
            }
        }
    }
}

/// One tensor as it is written, and what its cast did (read after it has been emitted).
struct EmittedTensor {
    let bytes: any TensorByteSource
    /// The dtype the values had before (the source's).
    let sourceDType: DType
    /// The overflow, underflow and NaN counts of the tensor's cast once it has been emitted;
    /// `nil` when no cast happens (a rename, a copy, a transpose or scaling in the same dtype).
    let castStatistics: (() -> CastStatistics)?
}
