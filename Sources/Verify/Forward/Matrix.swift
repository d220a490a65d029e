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

    /// A linear layer: `self · weightᵀ` for a weight stored `[out, in]` (transformers), `self · weight`
    /// for one stored `[in, out]` (a Mesh-TF kernel); BLAS reads either operand as it lies.
    func times(_ weight: WeightView) -> Matrix {
        let (inputs, outputs) = weight.transposed ? (weight.rows, weight.columns) : (weight.columns, weight.rows)
        precondition(
            columns == inputs,
            "\(rows)x\(columns) · \(weight.rows)x\(weight.columns) (transposed: \(weight.transposed))")
        var result = Matrix(zeros: rows, outputs)
        guard rows > 0, outputs > 0, columns > 0 else { return result }
        values.withUnsafeBufferPointer { a in
            result.values.withUnsafeMutableBufferPointer { c in
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, weight.transposed ? CblasNoTrans : CblasTrans, Int32(rows),
                    Int32(outputs), Int32(columns), 1, a.baseAddress, Int32(columns), weight.values.baseAddress,
                    Int32(weight.columns), 0, c.baseAddress, Int32(outputs))
            }
        }
        return result
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

/// OpenBLAS's own threading.
enum BLAS {
    /// Runs `body` with each BLAS call computed on its calling thread alone, then restores the
    /// thread count: when several passes run side by side they already fill the cores, and idle
    /// OpenBLAS workers would spin (sched_yield) on the cores the passes need.
    static func withOneThreadPerCall<Result>(_ body: () throws -> Result) rethrows -> Result {
        let threads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(threads) }
        return try body()
    }
}
