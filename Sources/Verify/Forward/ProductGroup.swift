/// The independent matrix products of one step of the pass (an attention's q, k and v; a gated
/// feed-forward block's two inputs; a single product), on buffers both the pass's thread and
/// the prefetching thread may multiply blocks into (`WeightPrefetcher.multiplyAll`).
///
/// `@unchecked Sendable`: the inputs are only read while the group is shared, each block of a
/// weight stored `[out, in]` writes only its own output columns (`Matrix.multiply`), and the pass
/// waits for the prefetching thread's last block before it reads the outputs or frees anything.
final class ProductGroup: @unchecked Sendable {
    struct Product {
        let parameter: T5Parameter
        let input: UnsafeBufferPointer<Float>
        let rows: Int
        let columns: Int
        let output: UnsafeMutableBufferPointer<Float>
        let outputs: Int
    }

    let products: [Product]

    init(_ products: [Product]) {
        self.products = products
    }

    func contains(_ parameter: T5Parameter) -> Bool { products.contains { $0.parameter == parameter } }

    /// Multiplies the block `block` of `parameter`'s weight into its product's output.
    func multiply(_ weight: WeightView, of parameter: T5Parameter, block: Range<Int>) {
        guard let product = products.first(where: { $0.parameter == parameter }) else { return }
        Matrix.multiply(
            product.input, rows: product.rows, columns: product.columns, weight, block: block, into: product.output,
            outputs: product.outputs)
    }
}
