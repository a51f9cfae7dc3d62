import Testing
import SRSupport
import SRTensor
import _COMP

@Suite("Compute threads")
struct ComputeThreadsTests {
    @Test("serially runs loops inline with one OpenMP thread on this thread, then restores both")
    func serially() {
        let before = ComputeThreads.count
        let openMPBefore = omp_get_max_threads()
        let (inside, openMPInside, chunks) = ComputeThreads.serially { () -> (Int, Int32, Int) in
            var seen = 0
            parallelChunks(1 << 20, grain: 1) { _ in seen += 1 }   // inline: one chunk, no data race
            return (ComputeThreads.count, omp_get_max_threads(), seen)
        }
        #expect(inside == 1 && openMPInside == 1 && chunks == 1)
        #expect(ComputeThreads.count == before && omp_get_max_threads() == openMPBefore)
        // The same tensor work gives the same result either way.
        let x = Tensor(shape: [4, 9, 9, 8], values: (0..<2592).map { Float($0 % 13) / 13 })
        let w = Tensor(shape: [8, 3, 3, 8], values: (0..<576).map { Float($0 % 7) / 70 })
        let parallel = withoutGradients { Tensor.conv2d(x, weights: w, padding: 1) }
        let serial = ComputeThreads.serially { withoutGradients { Tensor.conv2d(x, weights: w, padding: 1) } }
        #expect(parallel.scalars == serial.scalars)
    }
}
