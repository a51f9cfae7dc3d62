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
