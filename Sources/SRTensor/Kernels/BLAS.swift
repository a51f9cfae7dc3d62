import Synchronization
import _CBLAS
import _CDNNL

/// Which library computes the engine's matrix products (`Tensor.matmul`, attention, Winograd's
/// tile GEMMs, linear layers).
///
/// oneDNN 2.6's `dnnl_sgemm` (its JIT AVX2 kernels) is the default: measured beside OpenBLAS
/// 0.3.21's `cblas_sgemm` on this 2-core AVX2 machine it is 1.2–2.7× faster at the U-Net's shapes
/// (`diffsr-bench --filter gemm` prints both). OpenBLAS stays selectable to compare against.
public enum MatrixMultiplicationBackend: Int, Sendable {
    case onednn
    case openblas

    private static let selected = Atomic<Int>(MatrixMultiplicationBackend.onednn.rawValue)

    /// The backend in effect for the whole process (a process setting, like the thread count: the
    /// products run on OpenMP threads where task-local values are not visible).
    public static var current: MatrixMultiplicationBackend {
        get { MatrixMultiplicationBackend(rawValue: selected.load(ordering: .relaxed)) ?? .onednn }
        set { selected.store(newValue.rawValue, ordering: .relaxed) }
    }
}

/// Matrix products through oneDNN's `dnnl_sgemm` or OpenBLAS's `cblas_sgemm`
/// (`MatrixMultiplicationBackend`). The only place (with `OneDNN`) that calls a kernel library for
/// them. Both run single-threaded when called inside a parallel region (the attention loop) and on
/// the OpenMP pool otherwise. (Winograd's point-wise GEMMs have their own kernel, `PointGEMM`.)
enum BLAS {
    static func setThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }

    /// C[m×n] = A·B, row-major, with A stored [m×k] (or [k×m] when `transposeA`) and B stored
    /// [k×n] (or [n×k] when `transposeB`), all dense.
    static func gemm(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                     m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false) {
        if m == 0 || n == 0 { return }
        if k == 0 { c.initialize(repeating: 0, count: m * n); return }
        let (lda, ldb, ldc) = (transposeA ? m : k, transposeB ? k : n, n)
        switch MatrixMultiplicationBackend.current {
        case .onednn:
            let status = dnnl_sgemm(transposeA ? 84 : 78, transposeB ? 84 : 78, Int64(m), Int64(n), Int64(k), 1,
                                    a, Int64(lda), b, Int64(ldb), 0, c, Int64(ldc))   // 84 "T", 78 "N"
            precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) for m \(m), n \(n), k \(k)")
        case .openblas:
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
        }
    }
}
