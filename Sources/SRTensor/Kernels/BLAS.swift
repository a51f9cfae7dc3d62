import _CBLAS

/// Matrix products through OpenBLAS `cblas_sgemm`. The only place (with `OneDNN`) that calls a
/// kernel library.
enum BLAS {
    static func setThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// C[m×n] = A·B (+ C when `accumulate`), row-major, with A stored [m×k] (or [k×m] when
    /// `transposeA`) and B stored [k×n] (or [n×k] when `transposeB`).
    static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false, accumulate: Bool = false) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { c.initialize(repeating: 0, count: m * n) }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(transposeA ? m : k), b, Int32(transposeB ? k : n),
                    accumulate ? 1 : 0, c, Int32(n))
    }
}
