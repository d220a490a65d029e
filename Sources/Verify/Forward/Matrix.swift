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
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(block.count), 1,
                x + block.lowerBound, Int32(columns), w, Int32(outputs), 1, y, Int32(outputs))
        } else if rows <= fewRows && columns >= longRows {
            // A few rows of long inputs (the decoder's projections back to the model width): in
            // slices small enough for OpenBLAS's small-matrix kernel, which multiplies the weight
            // where it lies instead of packing it first (2-3x faster at 6-24 rows and 1024-2816
            // inputs; slower with fewer inputs or 32 rows).
            let slice = max(1, smallKernelLimit / (rows * columns))
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
            // faster for the few rows of a probe batch, measured on OpenBLAS 0.3.21).
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

    /// Where `multiply` slices a weight for OpenBLAS's small-matrix kernel: at most `fewRows` rows
    /// of at least `longRows` inputs, in slices of at most `smallKernelLimit` multiply-adds (the
    /// largest product OpenBLAS 0.3.21 hands that kernel on AVX-512 machines; measured there only).
    private static let fewRows = 24
    private static let longRows = 512
    private static let smallKernelLimit = 1_000_000

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

    private static let prepared: String? = {
        let chosen = zoo_blas_choose_kernels().map { String(cString: $0) }
        zoo_blas_use_calling_threads_only()
        return chosen
    }()
}
