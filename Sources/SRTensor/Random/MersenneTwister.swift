/// MT19937, the engine of PyTorch's CPU generator (`at::mt19937`): Knuth seeding of the 624-word
/// state from the low 32 bits of the seed, the standard twist and tempering.
public struct MersenneTwister: RandomNumberGenerator, Sendable, Equatable {
    private var state: [UInt32]
    private var index: Int

    public init(seed: UInt64) {
        var s = [UInt32](repeating: 0, count: 624)
        s[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 { s[i] = 1_812_433_253 &* (s[i - 1] ^ (s[i - 1] >> 30)) &+ UInt32(i) }
        state = s
        index = 624
    }

    /// The next 32-bit output.
    public mutating func next32() -> UInt32 {
        if index == 624 { twist() }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// Two outputs as one 64-bit value, the first in the high half (PyTorch's `random64()`).
    public mutating func next() -> UInt64 {
        let high = UInt64(next32()), low = UInt64(next32())
        return high << 32 | low
    }

    private mutating func twist() {
        for i in 0..<624 {
            let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
            var v = y >> 1
            if y & 1 != 0 { v ^= 0x9908_B0DF }
            state[i] = state[(i + 397) % 624] ^ v
        }
        index = 0
    }
}
