import Foundation
import Synchronization
import _COMP

/// The number of threads the Swift compute loops of every target use (default: all active
/// cores). The tensor engine's `Parallelism.setThreadCount` also configures OpenBLAS and oneDNN.
public enum ComputeThreads {
    private static let configured = Atomic<Int>(0)
    @TaskLocal private static var isSerial = false

    /// The thread count in effect (≥ 1; 1 inside `serially`).
    public static var count: Int {
        if isSerial { return 1 }
        let n = configured.load(ordering: .relaxed)
        return n > 0 ? n : ProcessInfo.processInfo.activeProcessorCount
    }

    /// Runs `body` on the calling thread alone: the Swift loops run inline and this thread's
    /// OpenMP regions (oneDNN's primitives) get one thread. For work beside the main computation,
    /// such as the trainer's batch preparation, so that a second OpenMP team does not compete
    /// with (and spin against) the team that already fills the cores.
    public static func serially<R>(_ body: () throws -> R) rethrows -> R {
        omp_set_num_threads(1)   // this thread's ICV only
        defer { omp_set_num_threads(Int32(count)) }
        return try $isSerial.withValue(true) { try body() }
    }

    /// Sets the thread count (`0` = all active cores), also for the OpenMP pool.
    public static func set(_ count: Int) {
        configured.store(max(count, 0), ordering: .relaxed)
        omp_set_num_threads(Int32(self.count))
    }
}

/// Runs `body(range)` over `0..<count` split into contiguous chunks across `ComputeThreads.count`
/// threads when there is at least `grain` work per chunk; otherwise inline. Chunks must write
/// disjoint outputs. The threads are OpenMP's (`GOMP_parallel`), the pool oneDNN also uses.
@inline(__always)
public func parallelChunks(_ count: Int, grain: Int = 1 << 14, _ body: (Range<Int>) -> Void) {
    let threads = ComputeThreads.count
    if count <= grain || threads < 2 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunks = min(threads, (count + grain - 1) / grain)
    parallelTeam(chunks) { thread, team in
        var chunk = thread   // a smaller team than asked for takes the remaining chunks in turn
        while chunk < chunks {
            body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
            chunk += team
        }
    }
}

/// Runs `body(i)` for every `i` in `0..<count` across the threads (each call independent), when
/// there are at least `grain` items per chunk.
@inline(__always)
public func parallelForEach(_ count: Int, grain: Int = 1, _ body: (Int) -> Void) {
    parallelChunks(count, grain: grain) { range in for i in range { body(i) } }
}

/// The work of one `parallelTeam` call.
private final class TeamWork {
    let body: (Int, Int) -> Void
    init(body: @escaping (Int, Int) -> Void) { self.body = body }
}

/// Runs `body(thread, team)` once on each thread of one OpenMP team of up to `threads` threads
/// (`team` is the size the team got: 1 when run inline, for `threads` < 2, or nested inside another
/// region). Inside, every thread of the team must call `teamBarrier(team)` the same number of
/// times: a kernel that needs a result of all threads between two phases (GroupNorm's statistics,
/// then the normalization of the same pixels) runs as one region instead of two, and each
/// thread's pixels stay in its cache. `parallelChunks` and `parallelForEach` run on it too.
@inline(__always)
public func parallelTeam(_ threads: Int, _ body: (_ thread: Int, _ team: Int) -> Void) {
    let threads = min(threads, ComputeThreads.count)
    if threads < 2 { return body(0, 1) }
    withoutActuallyEscaping(body) { escapable in
        let work = TeamWork(body: escapable)
        withExtendedLifetime(work) {
            GOMP_parallel({ context in
                let work = Unmanaged<TeamWork>.fromOpaque(context!).takeUnretainedValue()
                work.body(Int(omp_get_thread_num()), Int(omp_get_num_threads()))
            }, Unmanaged.passUnretained(work).toOpaque(), UInt32(threads), 0)
        }
    }
}

/// Waits until every thread of the current `parallelTeam` (of size `team`, as passed to its body)
/// has reached this call. A no-op for a team of one, so an inline body never waits on an
/// enclosing region's barrier.
@inline(__always)
public func teamBarrier(_ team: Int) { if team > 1 { GOMP_barrier() } }

/// Hands out the item numbers 0, 1, 2, … below `count` to the threads of a `parallelTeam`, each
/// number once: a thread asks for the next item when it is done with one, so a thread slowed down
/// (by the other work of a shared host, or by a heavier item) takes fewer items instead of holding
/// the others at the end of the region, as a static split would.
public final class WorkQueue: Sendable {
    public let count: Int
    private let claimed = Atomic<Int>(0)

    public init(count: Int) { self.count = count }

    /// The next unclaimed item, or nil when every item has been handed out.
    @inline(__always)
    public func next() -> Int? {
        let item = claimed.add(1, ordering: .relaxed).oldValue
        return item < count ? item : nil
    }
}
