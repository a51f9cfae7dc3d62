import Foundation

/// A random generator that reproduces PyTorch's CPU generator: `TorchGenerator(seed: s)` then
/// `randn`/`rand` give, bit for bit, what `torch.manual_seed(s)` then `torch.randn`/`torch.rand`
/// give for float32 tensors on an x86-64 CPU with AVX2.
///
/// Matches: PyTorch 2.x `CPUGeneratorImpl`, `uniform_real_distribution`, `normal_distribution`,
/// `normal_fill_AVX2` (aten/src/ATen/native/cpu/DistributionTemplates.h) and the Cephes
/// `log256_ps`/`sincos256_ps` of `avx_mathfun.h`, including the fused multiply-adds the shipped
/// wheels are compiled with:
/// - `rand`: one 32-bit draw per element, `(x & 0xFFFFFF)·2⁻²⁴`;
/// - `randn` of ≥ 16 elements: uniforms for every element first, then Box–Muller in place over
///   blocks of 16 (pairs j, j+8); when the count is not a multiple of 16 the last 16 elements are
///   redrawn and transformed again;
/// - `randn` of < 16 elements, and of tensors that are not contiguous (`randnElementwise`): per element, Box–Muller in Double from two 53-bit uniforms, the
///   second value of each pair cached for the next draw (as the generator's
///   `next_double_normal_sample`).
/// Limitations: PyTorch builds without AVX2 (or its MKL path on some Intel CPUs) use other
/// formulas; this reproduces the AVX2 path.
public struct TorchGenerator: RandomNumberGenerator, Sendable {
    public private(set) var engine: MersenneTwister
    private var cachedNormal: Double?

    public init(seed: UInt64) {
        engine = MersenneTwister(seed: seed)
    }

    public mutating func next() -> UInt64 { engine.next() }

    /// One float uniform in [0, 1) with 24 random bits.
    public mutating func uniformFloat() -> Float {
        Float(engine.next32() & 0xFF_FFFF) * (1 / Float(1 << 24))
    }

    /// One double uniform in [0, 1) with 53 random bits.
    public mutating func uniformDouble() -> Double {
        Double(engine.next() & ((1 << 53) - 1)) * (1 / Double(UInt64(1) << 53))
    }

    /// `count` values of `torch.rand(count)`.
    public mutating func rand(count: Int) -> [Float] {
        (0..<count).map { _ in uniformFloat() }
    }

    /// `count` values of `torch.randn(count)` (standard normal).
    public mutating func randn(count: Int) -> [Float] {
        if count < 16 { return (0..<count).map { _ in Float(normalDouble()) } }
        var data = (0..<count).map { _ in uniformFloat() }
        data.withUnsafeMutableBufferPointer { buffer in
            var i = 0
            while i + 16 <= count {
                TorchGenerator.boxMuller16(buffer.baseAddress! + i)
                i += 16
            }
            if count % 16 != 0 {
                let tail = buffer.baseAddress! + count - 16
                for j in 0..<16 { tail[j] = uniformFloat() }
                TorchGenerator.boxMuller16(tail)
            }
        }
        return data
    }

    /// `count` standard-normal values drawn element by element (`normal_distribution<double>`), as
    /// PyTorch fills a tensor that is not contiguous — e.g. `torch.randn_like` of a channels-last
    /// tensor, in its memory order — and any tensor of fewer than 16 elements.
    public mutating func randnElementwise(count: Int) -> [Float] {
        (0..<count).map { _ in Float(normalDouble()) }
    }

    /// `normal_distribution<double>` with the cached second sample.
    private mutating func normalDouble() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2.0 * Foundation.log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = r * Foundation.sin(theta)
        return r * Foundation.cos(theta)
    }

    /// Box–Muller over one block: u1 = 1 − data[j], u2 = data[j+8].
    static func boxMuller16(_ data: UnsafeMutablePointer<Float>) {
        let twoPi = Float(2 * Double.pi)
        for j in 0..<8 {
            let u1 = 1 - data[j], u2 = data[j + 8]
            let radius = (-2 * cephesLog(u1)).squareRoot()
            let (sine, cosine) = cephesSinCos(twoPi * u2)
            data[j] = radius * cosine
            data[j + 8] = radius * sine
        }
    }

    /// Cephes single-precision logarithm as `log256_ps` computes it (one lane), with the
    /// multiply-adds fused where the compiled wheel fuses them.
    static func cephesLog(_ input: Float) -> Float {
        var x = Swift.max(input, Float(bitPattern: 0x0080_0000))
        let exponent = Int32(bitPattern: x.bitPattern >> 23) - 0x7F
        x = Float(bitPattern: (x.bitPattern & ~0x7F80_0000) | Float(0.5).bitPattern)
        var e = Float(exponent) + 1
        let below = x < 0.707106781186547524
        let addend: Float = below ? x : 0
        x -= 1
        if below { e -= 1 }
        x += addend
        let z = x * x
        var y: Float = 7.0376836292e-2
        for coefficient: Float in [-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
                                   -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1] {
            y = coefficient.addingProduct(y, x)
        }
        y = y * x
        y = (e * Float(-2.12194440e-4)).addingProduct(y, z)
        y = y.addingProduct(z, Float(-0.5))
        x = x + y
        return x.addingProduct(e, Float(0.693359375))
    }

    /// Cephes single-precision sine and cosine as `sincos256_ps` computes them (one lane).
    static func cephesSinCos(_ input: Float) -> (sin: Float, cos: Float) {
        var signSine = input.bitPattern & 0x8000_0000
        var x = Float(bitPattern: input.bitPattern & 0x7FFF_FFFF)
        var quadrant = Int32(x * 1.27323954473516)   // ×4/π, truncated
        quadrant = (quadrant + 1) & ~1
        let q = Float(quadrant)
        signSine ^= UInt32(bitPattern: quadrant & 4) << 29
        let usesSinePolynomial = quadrant & 2 == 0
        let signCosine = UInt32(bitPattern: ~(quadrant - 2) & 4) << 29
        x = x.addingProduct(q, Float(-0.78515625))
        x = x.addingProduct(q, Float(-2.4187564849853515625e-4))
        x = x.addingProduct(q, Float(-3.77489497744594108e-8))
        let z = x * x
        var cosine = Float(-1.388731625493765e-3).addingProduct(Float(2.443315711809948e-5), z)
        cosine = Float(4.166664568298827e-2).addingProduct(cosine, z)
        cosine = cosine * z
        cosine = (-(z * 0.5)).addingProduct(cosine, z)
        cosine = cosine + 1
        var sine = Float(8.3321608736e-3).addingProduct(Float(-1.9515295891e-4), z)
        sine = Float(-1.6666654611e-1).addingProduct(sine, z)
        sine = sine * z
        sine = x.addingProduct(sine, x)
        let s = usesSinePolynomial ? sine : cosine, c = usesSinePolynomial ? cosine : sine
        return (Float(bitPattern: s.bitPattern ^ signSine), Float(bitPattern: c.bitPattern ^ signCosine))
    }
}
