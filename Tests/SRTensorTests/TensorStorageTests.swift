import Testing
@testable import SRTensor

@Suite("Tensor storage")
struct TensorStorageTests {
    @Test("Storage and aligned blocks are 64-byte aligned at every size and hold their whole range")
    func alignment() {
        for count in [1, 3, 16, 1000, 65_537, 1 << 20] {
            let storage = TensorStorage(repeating: 2, count: count)
            #expect(UInt(bitPattern: storage.pointer) % 64 == 0, "\(count) floats at \(storage.pointer)")
            #expect(storage.pointer[count - 1] == 2)
        }
        for bytes in [1, 63, 64, 65, 4096] {
            let block = AlignedBlock(byteCount: bytes)
            #expect(UInt(bitPattern: block.pointer) % 64 == 0)
            block.pointer.storeBytes(of: 0xFF, toByteOffset: bytes - 1, as: UInt8.self)   // the whole range is ours
            block.release()
        }
    }
}

@Suite("Derived-value cache budget")
struct DerivedValueCacheTests {
    final class Sized: SizedDerivedValue {
        let byteCount: Int
        init(_ bytes: Int) { byteCount = bytes }
    }

    @Test("A value beyond the budget is recomputed on every use; one within it is kept")
    func budget() {
        let tensor = Tensor.ones([4])
        var made = 0
        for _ in 0..<3 { _ = tensor.storage.derivedValue(key: "huge") { () -> Sized in made += 1; return Sized(Int.max / 4) } }
        #expect(made == 3)
        var kept = 0
        for _ in 0..<3 { _ = tensor.storage.derivedValue(key: "small") { () -> Sized in kept += 1; return Sized(64) } }
        #expect(kept == 1)
    }
}

@Suite("Tensor memory accounting")
struct TensorMemoryTests {
    @Test("measure counts the storage allocated in its body: the peak of what is alive at once, nested scopes included")
    func measure() {
        let outside = Tensor.ones([1 << 16])   // allocated before: not counted, even when freed inside
        var keep: Tensor? = outside
        let (kept, peak) = TensorMemory.measure { () -> Tensor in
            keep = nil
            let a = Tensor.ones([2000])                        // 8,000 bytes
            let (_, inner) = TensorMemory.measure { [Tensor.zeros([500]), Tensor.zeros([250])].count }
            #expect(inner == 2_000 + 1_000)                    // both alive until the closure returns
            let b = Tensor.zeros([2000])                       // 8,000 bytes, with a: 16,000
            return a + b                                       // 8,000 more: 24,000 at once
        }
        #expect(keep == nil && kept.count == 2000)
        #expect(peak == 24_000, "peak \(peak)")
        let (_, none) = TensorMemory.measure { 3 }
        #expect(none == 0)
    }

    @Test("The process-wide count follows allocations and frees")
    func liveBytes() {
        // Other tests allocate concurrently: only the lower bound while the tensor is alive is certain.
        let before = TensorMemory.peakBytes
        let big = Tensor.zeros([1 << 20])
        #expect(TensorMemory.peakBytes >= 4 << 20 && TensorMemory.peakBytes >= before)
        #expect(big.count == 1 << 20)
    }
}

@Suite("Kernel layouts: admission and release")
struct KernelLayoutTests {
    @Test("A convolution inside withoutAdmission caches no layout; releaseDerivedValues drops a cached one; results are equal")
    func admission() {
        var generator = TorchGenerator(seed: 1)
        let input = Tensor.randomNormal([1, 40, 40, 8], using: &generator)
        let weights = Tensor.randomNormal([8, 3, 3, 8], using: &generator)
        let key = { weights.storage.derivedValueCount }
        let fresh = DerivedValueCache.withoutAdmission { Tensor.conv2d(input, weights: weights, padding: 1) }
        #expect(key() == 0)
        let cached = Tensor.conv2d(input, weights: weights, padding: 1)
        #expect(key() > 0, "a 3×3 convolution caches its transformed filters")
        #expect(fresh.scalars == cached.scalars)
        weights.releaseDerivedValues()
        #expect(key() == 0)
        #expect(Tensor.conv2d(input, weights: weights, padding: 1).scalars == cached.scalars)
    }

    /// Regression: the oneDNN path returned a pointer into a reordered buffer that the cache did not
    /// keep (over its budget, or outside admission), and the Winograd path read its filters' pointer
    /// from an object released right after, so the buffer was freed before the kernel read it and
    /// allocations in between overwrote it (measured before the fix: values of 1e32 here).
    @Test("A reordered weight or transformed filter that the cache does not keep lives until the convolution has read it",
          arguments: [ConvolutionAlgorithm.direct, .automatic])
    func uncachedReorder(algorithm: ConvolutionAlgorithm) {
        var generator = TorchGenerator(seed: 2)
        for channels in [8, 64] {
            let input = Tensor.randomNormal([1, 40, 40, channels], using: &generator)   // 100 tiles: Winograd when automatic
            let weights = Tensor.randomNormal([channels, 3, 3, channels], using: &generator)
            let expected = withConvolutionAlgorithm(algorithm) { Tensor.conv2d(input, weights: weights, padding: 1) }
            weights.releaseDerivedValues()
            for _ in 0..<3 {
                let uncached = DerivedValueCache.withoutAdmission {
                    withConvolutionAlgorithm(algorithm) { Tensor.conv2d(input, weights: weights, padding: 1) }
                }
                #expect(weights.storage.derivedValueCount == 0)
                let worst = zip(uncached.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst == 0, "\(algorithm), \(channels) channels: largest difference \(worst)")
            }
        }
    }
}
