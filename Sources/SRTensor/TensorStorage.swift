import Foundation

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

    /// Uninitialized storage for `count` floats.
    init(uninitializedCount count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (bytes + 63) / 64 * 64, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(from: source, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// A value derived from these contents, computed once and kept until the contents change.
    public func derivedValue<T: AnyObject>(key: String, _ make: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        if let cached = derived[key] as? T { return cached }
        let value = make()
        derived[key] = value
        return value
    }

    /// Forgets every derived value (called before the contents are mutated).
    func invalidateDerivedValues() {
        lock.lock()
        derived.removeAll()
        lock.unlock()
    }
}
