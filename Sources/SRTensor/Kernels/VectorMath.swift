/// Fast transcendental functions for the elementwise kernels, written as branch-free scalar code
/// that the compiler vectorizes in the kernels' loops (measured: 4.5× faster than glibc `expf`
/// over 2M values on this machine; SIMD16 code with Swift's generic SIMD operations was slower).
///
/// `exp`: Cephes-style range reduction x = n·ln2 + r (ln2 split in two parts), a degree-6
/// polynomial for eʳ on [−ln2/2, ln2/2], and 2ⁿ built from exponent bits (split in two factors so
/// every n in range is representable). Relative error ≤ 1.2·10⁻⁷ over [−87.3, 88.7]; inputs are
/// clamped to that range (very negative inputs give ~1e-38 instead of 0). Used where PyTorch also
/// uses a vectorized exp: softmax, sigmoid, SiLU. The multiply-adds are fused where the build
/// targets a CPU with FMA (`DIFFSR_FMA`, see `madd`).
enum VectorMath {
    /// a·b + c: one fused multiply-add where the build targets a CPU with FMA (`DIFFSR_FMA`, set by
    /// Package.swift), otherwise a multiply and an add (elsewhere `fmaf` would be a library call).
    /// Two concrete overloads, not one generic: a debug build compiles each file on its own, and
    /// there a generic call from another file's kernel went through protocol witnesses per lane
    /// group (most of a debug-build StableSR upscale's time).
    @inline(__always)
    static func madd(_ a: Float, _ b: Float, _ c: Float) -> Float {
        #if DIFFSR_FMA
        return c.addingProduct(a, b)
        #else
        return a * b + c
        #endif
    }

    @inline(__always)
    static func madd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        #if DIFFSR_FMA
        return c.addingProduct(a, b)
        #else
        return a * b + c
        #endif
    }

    @inline(__always)
    static func exp(_ input: Float) -> Float {
        let x = Swift.min(Swift.max(input, -87.3), 88.7)
        let t = madd(x, 1.44269504088896341, 12582912.0)   // round(x·log2 e) in the low mantissa bits
        let n = t - 12582912.0
        var r = madd(n, -0.693359375, x)
        r = madd(n, 2.12194440e-4, r)
        var p: Float = 1.9875691500e-4
        p = madd(p, r, 1.3981999507e-3)
        p = madd(p, r, 8.3334519073e-3)
        p = madd(p, r, 4.1665795894e-2)
        p = madd(p, r, 1.6666665459e-1)
        p = madd(p, r, 5.0000001201e-1)
        p = madd(p, r * r, r + 1)
        let ni = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
        let half = ni &>> 1
        let scale1 = Float(bitPattern: UInt32(bitPattern: (half &+ 127) &<< 23))
        let scale2 = Float(bitPattern: UInt32(bitPattern: (ni &- half &+ 127) &<< 23))
        return p * scale1 * scale2
    }
}

extension VectorMath {
    /// The maximum of `count` floats (8 lanes at a time; NaNs are not propagated).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes.replace(with: v, where: v .> lanes)   // one compare and blend (pointwiseMax goes lane by lane)
            i += 8
        }
        var m = lanes.max()
        while i < count { m = Swift.max(m, x[i]); i += 1 }
        return m
    }

    /// The sum of `count` floats (8 lanes at a time).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = lanes.sum()
        while i < count { s += x[i]; i += 1 }
        return s
    }

    /// Σ x·y over `count` floats (8 lanes at a time).
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = lanes.sum()
        while i < count { s += x[i] * y[i]; i += 1 }
        return s
    }
}

extension VectorMath {
    /// `exp` on eight lanes: the same operations as the scalar version (so the same results, bit
    /// for bit), written on SIMD8 so that a loop can also carry a vector sum.
    @inline(__always)
    static func exp(_ input: SIMD8<Float>) -> SIMD8<Float> {
        var x = input.replacing(with: -87.3, where: input .< -87.3)
        x.replace(with: 88.7, where: x .> 88.7)
        let t = madd(x, SIMD8(repeating: 1.44269504088896341), SIMD8(repeating: 12582912.0))
        let n = t - 12582912.0
        var r = madd(n, SIMD8(repeating: -0.693359375), x)
        r = madd(n, SIMD8(repeating: 2.12194440e-4), r)
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = madd(p, r, SIMD8(repeating: 1.3981999507e-3))
        p = madd(p, r, SIMD8(repeating: 8.3334519073e-3))
        p = madd(p, r, SIMD8(repeating: 4.1665795894e-2))
        p = madd(p, r, SIMD8(repeating: 1.6666665459e-1))
        p = madd(p, r, SIMD8(repeating: 5.0000001201e-1))
        p = madd(p, r * r, r + 1)
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
        let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
        return p * scale1 * scale2
    }

    /// output[i] = exp(scale·input[i] − shift) for `count` floats (`output` may be `input`), and
    /// their sum, in one pass: softmax's numerator and denominator.
    @inline(__always)
    static func exponentials(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int,
                             scale: Float, shift: Float) -> Float {
        var lanes = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= count {
            let e = exp(UnsafeRawPointer(input + i).loadUnaligned(as: SIMD8<Float>.self) * scale - shift)
            UnsafeMutableRawPointer(output + i).storeBytes(of: e, as: SIMD8<Float>.self)
            lanes += e
            i += 8
        }
        var s = lanes.sum()
        while i < count { output[i] = exp(input[i] * scale - shift); s += output[i]; i += 1 }
        return s
    }
}
