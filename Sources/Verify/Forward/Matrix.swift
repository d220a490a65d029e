internal import CBLAS

/// A row-major matrix of `Float`s: activations and the weights of one layer.
struct Matrix {
    var rows: Int
    var columns: Int
    var values: [Float]

    init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    init(zeros rows: Int, _ columns: Int) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: 0, count: rows * columns))
    }

    subscript(row: Int, column: Int) -> Float {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// Adds one block of a linear layer into `output` (`[rows, outputs]`, zero to start with).
    ///
    /// For a weight stored `[out, in]` (transformers) the block is output features `block`:
    /// `output[:, block] = self · blockᵀ`. For one stored `[in, out]` (a Mesh-TF kernel) it is input
    /// features `block`: `output += self[:, block] · block`. BLAS reads either as it lies.
    func multiply(_ weight: WeightView, block: Range<Int>, into output: inout Matrix) {
        let outputs = output.columns
        values.withUnsafeBufferPointer { input in
            output.values.withUnsafeMutableBufferPointer { result in
                Self.multiply(input, rows: rows, columns: columns, weight, block: block, into: result, outputs: outputs)
            }
        }
    }

    /// `multiply(_:block:into:)` on borrowed buffers: `input` is `rows` x `columns`, `output`
    /// `rows` x `outputs`. For a weight stored `[out, in]` it writes only output columns `block`,
    /// so blocks of one product may run on different threads at once.
    static func multiply(
        _ input: UnsafeBufferPointer<Float>, rows: Int, columns: Int, _ weight: WeightView, block: Range<Int>,
        into output: UnsafeMutableBufferPointer<Float>, outputs: Int
    ) {
        guard rows > 0, outputs > 0, !block.isEmpty else { return }
        precondition(
            weight.transposed
                ? weight.columns == outputs && block.upperBound <= columns
                : weight.columns == columns && block.upperBound <= outputs,
            "\(rows)x\(columns) · block \(block) of \(weight.rows)x\(weight.columns) -> \(rows)x\(outputs)")
        guard let x = input.baseAddress, let w = weight.values.baseAddress, let y = output.baseAddress else { return }
        if weight.transposed {
            // In slices of output columns for OpenBLAS's small-matrix kernel when it has one (see
            // below; 1.05-1.4x as fast at 32-40 rows, 1.5-2.1x at 8-12).
            let slice = smallKernelSlice(rows: rows, inputs: block.count, transposed: true) ?? outputs
            for start in stride(from: 0, to: outputs, by: slice) {
                let count = min(slice, outputs - start)
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(count), Int32(block.count), 1,
                    x + block.lowerBound, Int32(columns), w + start, Int32(outputs), 1, y + start, Int32(outputs))
            }
        } else if let slice = smallKernelSlice(rows: rows, inputs: columns, transposed: false) {
            // A few rows (a probe batch's, a decoder's): in slices small enough for OpenBLAS's
            // small-matrix kernel, which multiplies the weight where it lies instead of packing it
            // first. Against the product below, on one AVX-512 core with the block in the cache:
            // 1.1x as fast at 32 rows, 1.7-2.3x at 8-12 rows with 128 inputs (the projections out
            // of the model width, the LM head), the same at 8-12 rows with 1024-2816 inputs.
            for start in stride(from: 0, to: block.count, by: slice) {
                let count = min(slice, block.count - start)
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(count), Int32(columns), 1, x,
                    Int32(columns), w + start * columns, Int32(columns), 0, y + block.lowerBound + start,
                    Int32(outputs))
            }
        } else {
            // Computed as `blockᵀ`'s product `block · inputᵀ` and transposed into place: with the
            // weight as the left operand, OpenBLAS packs it for its kernel more cheaply (1.2-1.4x
            // faster for the rows of a probe batch with kernels that have no small-matrix one,
            // or more rows than it takes; measured on OpenBLAS 0.3.21).
            let features = block.count
            withUnsafeTemporaryAllocation(of: Float.self, capacity: features * rows) { transposed in
                guard let t = transposed.baseAddress else { return }
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasTrans, Int32(features), Int32(rows), Int32(columns), 1, w,
                    Int32(columns), x, Int32(columns), 0, t, Int32(rows))
                cblas_somatcopy(
                    CblasRowMajor, CblasTrans, Int32(features), Int32(rows), 1, t, Int32(rows), y + block.lowerBound,
                    Int32(outputs))
            }
        }
    }

    /// How many output features of a product of `rows` x `inputs` go to OpenBLAS's small-matrix
    /// kernel at once, or `nil` when it is not worth it; `transposed`: the weight is stored
    /// `[in, out]` (`WeightView.transposed`), so BLAS reads it untransposed.
    ///
    /// OpenBLAS (0.3.21, as Debian ships it, and its later releases) has that kernel in its
    /// AVX-512 builds only, and hands it a product of `rows` x `count` outputs when
    /// `rows * count * inputs <= 10^6` and, for a weight it reads transposed (stored `[out, in]`),
    /// `rows * count <= 1200` and `inputs >= 32` (`sgemm_small_kernel_permit_skylakex.c`). Beyond
    /// 40 rows the slices get too narrow and the packing kernels are faster again (measured: even
    /// at 48 rows, 0.8-0.9x at 64).
    static func smallKernelSlice(rows: Int, inputs: Int, transposed: Bool) -> Int? {
        guard BLAS.hasSmallMatrixKernels, rows <= 40, transposed || inputs >= 32 else { return nil }
        let limit = 1_000_000 / (rows * inputs)
        let slice = transposed ? limit : min(1200 / rows, limit)
        return slice >= 1 ? slice : nil
    }

    /// Element-wise sum (a residual connection).
    static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.columns == rhs.columns)
        var result = lhs
        for index in result.values.indices { result.values[index] += rhs.values[index] }
        return result
    }
}

/// `C[m×n] = A[m×k] · Bᵀ` over strided sub-matrices (one attention head's columns), through BLAS.
func multiplyTransposed(
    _ a: UnsafePointer<Float>, rowStrideA: Int, _ b: UnsafePointer<Float>, rowStrideB: Int,
    into c: UnsafeMutablePointer<Float>, rowStrideC: Int, m: Int, n: Int, k: Int
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(rowStrideA), b,
        Int32(rowStrideB), 0, c, Int32(rowStrideC))
}

/// `C[m×n] = A[m×k] · B[k×n]` over strided sub-matrices, through BLAS.
func multiply(
    _ a: UnsafePointer<Float>, rowStrideA: Int, _ b: UnsafePointer<Float>, rowStrideB: Int,
    into c: UnsafeMutablePointer<Float>, rowStrideC: Int, m: Int, n: Int, k: Int
) {
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(rowStrideA), b,
        Int32(rowStrideB), 0, c, Int32(rowStrideC))
}

/// How zoo sets OpenBLAS up: its kernels, and its threading, which zoo does not use.
public enum BLAS {
    /// Gives OpenBLAS the kernels this CPU runs when it did not recognise the CPU (see
    /// `zoo_blas_choose_kernels`), makes every BLAS call of this process run on its calling
    /// thread, and stops OpenBLAS's idle workers (they would spin on the cores the passes, the
    /// comparison and the writer need). Idempotent; the forward pass calls it, and so should a
    /// program as it starts, before other threads read the environment and before the workers
    /// have spun for long.
    public static func prepare() { _ = prepared }

    /// OpenBLAS's name for the kernels it uses ("SkylakeX", "Haswell"), once `prepare` has run;
    /// `nil` when the library does not say.
    public static var kernels: String? { prepared }

    /// Whether the kernels in use include OpenBLAS's small-matrix ones (`Matrix.smallKernelSlice`):
    /// its AVX-512 kernels do, the AVX2 and older ones have none (their products are packed
    /// whatever their size).
    static let hasSmallMatrixKernels: Bool = {
        guard let kernels = kernels?.lowercased() else { return false }
        return ["skylakex", "cooperlake", "sapphirerapids"].contains(kernels)
    }()

    private static let prepared: String? = {
        let chosen = zoo_blas_choose_kernels().map { String(cString: $0) }
        zoo_blas_use_calling_threads_only()
        return chosen
    }()
}
