import Foundation
import Synchronization

/// How many cores the Swift kernels (elementwise, reductions, normalization) use.
/// Default: all active cores. `diffsr --threads N` sets it.
public enum Parallelism {
    private static let configured = Atomic<Int>(0)

    /// The thread count in effect (≥ 1).
    public static var threadCount: Int {
        let n = configured.load(ordering: .relaxed)
        return n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Sets the thread count for Swift kernels, OpenBLAS and oneDNN (`0` = all cores).
    public static func setThreadCount(_ count: Int) {
        configured.store(max(count, 0), ordering: .relaxed)
        BLAS.setThreadCount(threadCount)
        OneDNN.setThreadCount(threadCount)
    }
}

/// Runs `body(range)` over `0..<count` split into contiguous chunks across the cores, when there
/// is at least `grain` work per chunk; otherwise inline.
@inline(__always)
func parallelChunks(_ count: Int, grain: Int = 1 << 14, _ body: (Range<Int>) -> Void) {
    let threads = Parallelism.threadCount
    if count <= grain || threads < 2 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunks = min(threads, (count + grain - 1) / grain)
    withoutActuallyEscaping(body) { escapable in
        // Each chunk writes a disjoint part of the output.
        nonisolated(unsafe) let task = escapable
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            task((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
        }
    }
}
