import Foundation
import SRSupport

/// How many cores the engine uses: its Swift kernels (elementwise, reductions, normalization),
/// OpenBLAS and oneDNN (which share OpenMP's pool with the Swift loops). Default: all active cores. `diffsr --threads N` sets it.
public enum Parallelism {
    /// The thread count in effect (≥ 1).
    public static var threadCount: Int { ComputeThreads.count }

    /// Sets the thread count of the Swift kernels, OpenBLAS and oneDNN (`0` = all cores).
    public static func setThreadCount(_ count: Int) {
        ComputeThreads.set(count)   // the OpenMP pool: Swift loops and oneDNN
        BLAS.setThreadCount(threadCount)
    }
}
