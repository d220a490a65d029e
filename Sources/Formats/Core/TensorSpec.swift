/// A tensor's name, element type and shape: everything but its bytes.
///
/// The initializer checks that the shape's element count and byte count fit in `Int`, so code
/// holding a `TensorSpec` can multiply freely.
public struct TensorSpec: Sendable, Hashable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Product of the shape (1 for a scalar, 0 when any dimension is 0).
    public let elementCount: Int
    /// `elementCount / dtype.elementsPerBlock * dtype.bytesPerBlock` (`elementCount * byteSize`
    /// for element-wise dtypes).
    public let byteCount: Int

    /// Creates a spec, or returns `nil` when a dimension is negative, the sizes overflow `Int`, or
    /// (for a block-quantized dtype) the innermost dimension is not a whole number of blocks.
    ///
    /// Blocks run along the innermost (last) dimension, as ggml stores them; a scalar has no
    /// dimension to hold a block, so it cannot be block-quantized.
    public init?(name: String, dtype: DType, shape: [Int]) {
        guard let count = TensorSpec.elementCount(of: shape) else { return nil }
        if dtype.isBlockQuantized {
            guard let row = shape.last, row % dtype.elementsPerBlock == 0 else { return nil }
        }
        let (bytes, overflow) = (count / dtype.elementsPerBlock).multipliedReportingOverflow(by: dtype.bytesPerBlock)
        guard !overflow else { return nil }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = count
        self.byteCount = bytes
    }

    /// The product of `shape`, or `nil` if a dimension is negative or the product overflows.
    public static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// A copy with another name (used for aliases and name mapping).
    public func renamed(_ newName: String) -> TensorSpec {
        // Same dtype and shape, so the sizes are already known to fit.
        TensorSpec(unchecked: newName, dtype: dtype, shape: shape, elementCount: elementCount, byteCount: byteCount)
    }

    /// `[3, 4]` style, as Python prints shapes.
    public var shapeDescription: String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    private init(unchecked name: String, dtype: DType, shape: [Int], elementCount: Int, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.elementCount = elementCount
        self.byteCount = byteCount
    }
}
