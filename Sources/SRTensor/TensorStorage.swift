import Foundation

#if os(Linux)
/// glibc's `mallopt` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// glibc's `malloc_trim`: returns free heap pages to the system (from every arena, not only the top).
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif

/// The heap buffer behind a `Tensor`: 64-byte aligned Float32 samples (for SIMD and oneDNN).
///
/// Storage is shared between tensor copies and copied on write (`Tensor` checks uniqueness).
/// `derived` caches values computed from the contents (oneDNN's reordered weight layouts); any
/// mutation through `Tensor` clears it, so a cached layout never outlives the values it came from.
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    private let lock = NSLock()
    private var derived: [String: AnyObject] = [:]
    /// Bytes of `derived` counted against `DerivedValueCache.budget`.
    private var derivedBytes = 0

    /// Keeps large freed buffers in the heap instead of returning them to the system, so the
    /// tensors a model allocates on every step reuse warm pages (without this, glibc unmaps and
    /// page-faults each multi-megabyte buffer again: measured ~5% of a residual block's time).
    private static let allocatorTuned: Bool = {
        #if os(Linux)
        _ = glibcMallopt(-3, TensorMemory.keptBufferLimit)   // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 1 << 30)     // M_TRIM_THRESHOLD
        #endif
        return true
    }()

    /// The block behind `pointer`.
    private let block: AlignedBlock
    /// The `TensorMemory.measure` scope this storage is counted in.
    private let memoryScope: TensorMemory.Scope?

    /// Uninitialized storage for `count` floats.
    init(uninitializedCount count: Int) {
        _ = TensorStorage.allocatorTuned
        self.count = count
        block = AlignedBlock(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        pointer = block.pointer.bindMemory(to: Float.self, capacity: max(count, 1))
        memoryScope = TensorMemory.allocated(count * MemoryLayout<Float>.stride)
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(from: source, count: count)
    }

    deinit {
        DerivedValueCache.release(derivedBytes)
        TensorMemory.released(count * MemoryLayout<Float>.stride, scope: memoryScope)
        block.release()
    }

    /// A value derived from these contents, computed once and kept until the contents change —
    /// while the process-wide `DerivedValueCache.budget` allows: a value with a size
    /// (`SizedDerivedValue`) that would exceed it is computed for this call only.
    public func derivedValue<T: AnyObject>(key: String, _ make: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let cached = derived[key] as? T { return cached }
        let value = make()
        let bytes = (value as? SizedDerivedValue)?.byteCount ?? 0
        if DerivedValueCache.admitting, DerivedValueCache.reserve(bytes) {
            derived[key] = value
            derivedBytes += bytes
        }
        return value
    }

    /// How many values are cached.
    var derivedValueCount: Int { lock.lock(); defer { lock.unlock() }; return derived.count }

    /// Whether a value is cached under `key`.
    public func hasDerivedValue(key: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return derived[key] != nil
    }

    /// Forgets every derived value (called before the contents are mutated, and to hand a
    /// model's cached kernel layouts back when another model needs the memory).
    func invalidateDerivedValues() {
        lock.lock()
        derived.removeAll()
        DerivedValueCache.release(derivedBytes)
        derivedBytes = 0
        lock.unlock()
    }
}

/// Bytes held by tensor storage (every `Tensor`'s samples, weights included; not the derived
/// kernel layouts, which `DerivedValueCache` counts, nor kernels' scratch memory): process-wide,
/// with the most held at once since the last `resetPeak()`, and per scope with `measure`, which
/// counts only the storage allocated inside its body (on the calling task), so its result does not
/// depend on other work in the process. A deterministic measure of a computation's activation
/// memory, unlike the resident set (which also holds freed heap pages).
public enum TensorMemory {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var live = 0
    nonisolated(unsafe) private static var peak = 0
    /// The innermost `measure` scope of the calling task.
    @TaskLocal static var scope: Scope?

    /// The live and peak bytes of the storage allocated inside one `measure` (and its nested scopes).
    final class Scope: @unchecked Sendable {
        let parent: Scope?
        private let lock = NSLock()
        private var live = 0
        private(set) var peak = 0
        init(parent: Scope?) { self.parent = parent }
        func change(_ bytes: Int) {
            lock.lock()
            live += bytes
            if live > peak { peak = live }
            lock.unlock()
            parent?.change(bytes)
        }
        var peakBytes: Int { lock.lock(); defer { lock.unlock() }; return peak }
    }

    /// Bytes held now, process-wide.
    public static var liveBytes: Int { lock.lock(); defer { lock.unlock() }; return live }

    /// The most bytes held at once process-wide since the last `resetPeak()` (or the process start).
    public static var peakBytes: Int { lock.lock(); defer { lock.unlock() }; return peak }

    /// Starts a new process-wide peak from the bytes held now.
    public static func resetPeak() { lock.lock(); peak = live; lock.unlock() }

    /// Runs `body` and returns the most bytes that storage allocated inside it held at once (freed
    /// storage allocated before it does not count against it, nor does other tasks' work).
    public static func measure<R>(_ body: () throws -> R) rethrows -> (result: R, peakBytes: Int) {
        lock.lock(); measuring += 1; lock.unlock()
        defer { lock.lock(); measuring -= 1; lock.unlock() }
        let scope = Scope(parent: TensorMemory.scope)
        let result = try $scope.withValue(scope, operation: body)
        return (result, scope.peakBytes)
    }

    /// `measure` calls in progress: allocations look their scope up only while one is.
    nonisolated(unsafe) private static var measuring = 0

    /// Returns the heap's free pages to the system. The allocator is tuned to keep freed buffers
    /// (so a model's per-step tensors reuse warm pages); after handing a large cache back, e.g. a
    /// model's kernel layouts before another model's phase, those pages would otherwise stay
    /// resident while the next phase maps new ones.
    public static func returnFreedPages() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    /// Buffers below this size come from the heap and are kept there when freed (M_MMAP_THRESHOLD).
    static let keptBufferLimit: Int32 = 256 << 20

    /// Runs `body` with buffers from 16 MiB on mapped fresh and unmapped when freed, then returns
    /// the heap's free pages (`returnFreedPages`): for a one-shot phase on a large image under a
    /// memory budget, where buffers kept in the heap fragment it and hold resident memory that no
    /// tensor owns (measured: the CFW decoder on an 832² tile peaked 730 MiB above its tensors with
    /// the default, 70 MiB with this), at the cost of faulting its pages in anew.
    public static func withFreshPages<R>(_ body: () throws -> R) rethrows -> R {
        #if os(Linux)
        _ = glibcMallopt(-3, 16 << 20)
        defer {
            _ = glibcMallopt(-3, keptBufferLimit)
            returnFreedPages()
        }
        #endif
        return try body()
    }

    /// Counts an allocation; returns the scope it was counted in.
    static func allocated(_ bytes: Int) -> Scope? {
        lock.lock()
        live += bytes
        if live > peak { peak = live }
        let looksUp = measuring > 0
        lock.unlock()
        guard looksUp, let scope else { return nil }
        scope.change(bytes)
        return scope
    }

    static func released(_ bytes: Int, scope: Scope?) {
        lock.lock()
        live -= bytes
        lock.unlock()
        scope?.change(-bytes)
    }
}

/// A 64-byte aligned block of memory (for SIMD and oneDNN), from plain `malloc` with 63 bytes to
/// spare, aligned by hand; `release()` frees it.
///
/// Why not `posix_memalign` (behind Swift's `allocate(byteCount:alignment: 64)`): glibc's aligned
/// allocator asks for a little more than the block it aligns, so a freed block never serves the
/// next request of the same size: every large tensor came from fresh memory at the top of the heap
/// and page-faulted all of it again. Measured with glibc 2.36: a 2 MB allocate/free cycle faulted
/// 512 pages every time through `posix_memalign`, none through `malloc`; the SR3 training step
/// (`diffsr bench unet --mode train`) went from 225 K to 184 K page faults and from 904 MB to
/// 735 MB peak resident memory.
struct AlignedBlock {
    private let base: UnsafeMutableRawPointer
    let pointer: UnsafeMutableRawPointer

    init(byteCount: Int) {
        guard let base = malloc(max(byteCount, 1) + 63) else { fatalError("cannot allocate \(byteCount) bytes") }
        self.base = base
        pointer = UnsafeMutableRawPointer(bitPattern: (UInt(bitPattern: base) + 63) & ~UInt(63))!
    }

    func release() { free(base) }
}

/// A derived value that knows its size, so caches of them can be bounded.
public protocol SizedDerivedValue: AnyObject {
    var byteCount: Int { get }
}

/// The process-wide bound on cached derived values (weights reordered for oneDNN, Winograd-
/// transformed filters), which otherwise grow to several times a large model's weights: StableSR's
/// 0.9 B-parameter U-Net would keep about 4× its 3.7 GB in transformed filters. Values are cached
/// first come, first kept, until the budget is reached; later ones are recomputed on each use
/// (for the cyclic access of a sampling loop this keeps a stable cached subset, where evicting
/// the least recently used would miss every time).
///
/// Default: 2 GiB, or `DIFFSR_WEIGHT_CACHE_MB` from the environment.
public enum DerivedValueCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var used = 0
    nonisolated(unsafe) private static var limit: Int = {
        if let text = ProcessInfo.processInfo.environment["DIFFSR_WEIGHT_CACHE_MB"], let megabytes = Int(text), megabytes >= 0 {
            return megabytes << 20
        }
        return 2 << 30
    }()

    /// The budget in bytes.
    public static var budget: Int {
        get { lock.lock(); defer { lock.unlock() }; return limit }
        set { lock.lock(); limit = newValue; lock.unlock() }
    }

    /// Bytes now held by cached values.
    public static var bytesInUse: Int { lock.lock(); defer { lock.unlock() }; return used }

    /// Whether new values are kept (false inside `withoutAdmission`; values already cached are
    /// still used).
    @TaskLocal public static var admitting = true

    /// Runs `body` without caching new derived values: for one-shot work on large images (an
    /// autoencoder pass over a big tile), where transforming a filter costs nothing next to the
    /// convolution it serves, and a cached layout would only hold memory that the next phase needs.
    public static func withoutAdmission<R>(_ body: () throws -> R) rethrows -> R {
        try $admitting.withValue(false, operation: body)
    }

    /// Whether `bytes` more would fit the budget now.
    public static func hasRoom(_ bytes: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return used + bytes <= limit
    }

    static func reserve(_ bytes: Int) -> Bool {
        if bytes == 0 { return true }
        lock.lock()
        defer { lock.unlock() }
        guard used + bytes <= limit else { return false }
        used += bytes
        return true
    }

    static func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        lock.lock()
        used -= bytes
        lock.unlock()
    }
}
