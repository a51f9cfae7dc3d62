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

    @Test("parallelTeam: every thread sees all writes made before a teamBarrier; inline and nested teams have one thread")
    func teamBarrier() {
        let threads = ComputeThreads.count
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        defer { slots.deallocate(); seen.deallocate() }
        slots.initialize(repeating: 0, count: threads)
        seen.initialize(repeating: -1, count: threads)
        var teamSize = 0
        parallelTeam(threads) { thread, team in
            if thread == 0 { teamSize = team }
            for _ in 0..<1000 * (thread + 1) { slots[thread] &+= 1 }   // the later threads finish later
            SRSupport.teamBarrier(team)
            var total = 0
            for u in 0..<team { total += slots[u] }
            seen[thread] = total
        }
        #expect(teamSize >= 1 && teamSize <= threads)
        let expected = (1...teamSize).reduce(0) { $0 + 1000 * $1 }
        #expect((0..<teamSize).allSatisfy { seen[$0] == expected }, "\((0..<teamSize).map { seen[$0] }) vs \(expected)")
        // Inline (one thread) and nested inside another region: a team of one, whose barrier
        // does not wait on the enclosing region's.
        let inline = ComputeThreads.serially { () -> Int in
            var size = 0
            parallelTeam(4) { _, team in size = team; SRSupport.teamBarrier(team) }
            return size
        }
        #expect(inline == 1)
        let nested = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { nested.deallocate() }
        nested.initialize(repeating: 0, count: 2)
        parallelForEach(2) { i in
            parallelTeam(2) { _, team in nested[i] = team; SRSupport.teamBarrier(team) }
        }
        #expect(nested[0] == 1 && (threads < 2 || nested[1] == 1))
    }

    @Test("WorkQueue hands every item out exactly once across a team, then nil")
    func workQueue() {
        let count = 10_000
        let seen = UnsafeMutablePointer<Int>.allocate(capacity: count)
        defer { seen.deallocate() }
        seen.initialize(repeating: 0, count: count)
        let queue = WorkQueue(count: count)
        parallelTeam(ComputeThreads.count) { _, _ in
            while let item = queue.next() { seen[item] += 1 }   // each item is one thread's alone
        }
        #expect((0..<count).allSatisfy { seen[$0] == 1 })
        #expect(queue.next() == nil && WorkQueue(count: 0).next() == nil)
    }
}
