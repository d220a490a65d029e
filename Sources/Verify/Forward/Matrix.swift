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
        guard rows > 0, output.columns > 0, !block.isEmpty else { return }
        let outputs = output.columns
        precondition(
            weight.transposed
                ? weight.columns == outputs && block.upperBound <= columns
                : weight.columns == columns && block.upperBound <= outputs,
            "\(rows)x\(columns) · block \(block) of \(weight.rows)x\(weight.columns) -> \(output.rows)x\(outputs)")
        values.withUnsafeBufferPointer { a in
            output.values.withUnsafeMutableBufferPointer { c in
                guard let x = a.baseAddress, let w = weight.values.baseAddress, let y = c.baseAddress else { return }
                if weight.transposed {
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(block.count), 1,
                        x + block.lowerBound, Int32(columns), w, Int32(outputs), 1, y, Int32(outputs))
                } else {
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(block.count), Int32(columns), 1,
                        x, Int32(columns), w, Int32(columns), 0, y + block.lowerBound, Int32(outputs))
                }
            }
        }
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
