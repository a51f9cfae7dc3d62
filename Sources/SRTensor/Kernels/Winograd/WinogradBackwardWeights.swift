import Foundation
import SRSupport

/// The weights gradient of a Winograd-eligible 3×3 convolution by the transposed algorithm, with its
/// two transforms (A for the output-gradient tiles, Gᵀ back to 3×3 filters).
extension WinogradConvolution {
    /// A (6×4, the transpose of the output transform) applied to four values.
    @inline(__always)
    static func outputGradientTransform(_ z0: Vector, _ z1: Vector, _ z2: Vector, _ z3: Vector)
        -> (Vector, Vector, Vector, Vector, Vector, Vector)
    {
        let p = z0 + z2, q = z1 + z3, r = z0 + 4 * z2, t = 2 * z1 + 8 * z3
        return (z0, p + q, p - q, r + t, r - t, z3)
    }

    /// Gᵀ (3×6) applied to six values: the transpose of `filterTransform`.
    @inline(__always)
    static func filterGradientTransform(_ m0: Vector, _ m1: Vector, _ m2: Vector, _ m3: Vector, _ m4: Vector, _ m5: Vector)
        -> (Vector, Vector, Vector)
    {
        let p = m1 + m2, q = m3 + m4
        return (m0 * 0.25 - p * (1 / 6) + q * (1 / 24), (m2 - m1) * (1 / 6) + (m3 - m4) * (1 / 12), (q - p) * (1 / 6) + m5)
    }

    /// Whether the weights gradient of `g` takes this path: an applicable geometry with at least
    /// 32 tiles. Below that, the 36 · C · K sums over few tiles cost more in memory traffic than the
    /// GEMMs save, and oneDNN's direct backward-weights kernel is faster. Measured (forward +
    /// backward, fastest of 4–5 alternating runs, this path against oneDNN's for the weights):
    /// 4 tiles (8², C = K = 128 / 256) 2.0× / 3.7× slower, 16 tiles (16², 128 / 256 / 512) 1.06–1.14×
    /// slower; 32 tiles 1.19–1.26× faster, 64 tiles 1.56–1.70× faster, 256 tiles 2.1× faster.
    static func takesBackwardWeights(_ g: ConvolutionGeometry) -> Bool {
        isApplicable(g) && TileGrid(g).count >= 32
    }

    /// weightsGradient (`[K, 3, 3, C]`, written) = ∂L/∂weights of conv(input, weights) for
    /// `outputGradient` (`[N, H', W', K]`), for an applicable geometry. By the transposition of the
    /// forward algorithm, y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A gives ∂L/∂g = Gᵀ[Σ_tiles (A ȳ Aᵀ) ⊙ (Bᵀ d B)]G:
    /// the input tiles are transformed as in the forward pass, the 4×4 output-gradient tiles by A,
    /// and the 36 sums over tiles are GEMMs `[C × tiles] × [tiles × K]` (`PointGEMM`, reading V
    /// transposed in place and Z packed as it is written).
    static func backwardWeights(input: Tensor, outputGradient: Tensor, geometry g: ConvolutionGeometry,
                                weightsGradient: UnsafeMutablePointer<Float>) {
        let (c, k) = (g.inputChannels, g.outputChannels)
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let grid = TileGrid(g), tiles = grid.count
        let perBlock = grid.tilesPerBlock(inputChannels: c, outputChannels: k)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * c)
        let z = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * k)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 36 * c * k)
        defer { v.deallocate(); z.deallocate(); sums.deallocate() }
        let x = UnsafeRawPointer(input.storage.pointer), dy = UnsafeRawPointer(outputGradient.storage.pointer)
        for first in stride(from: 0, to: tiles, by: perBlock) {
            let count = min(perBlock, tiles - first)
            let vRaw = UnsafeMutableRawPointer(v), zRaw = UnsafeMutableRawPointer(z)
            transformInputTiles(x, geometry: g, first: first, count: count, into: vRaw, layout: .planeMajor(tiles: count, channels: c))
            // Output-gradient tiles (4×4, zero beyond the output) → A ȳ Aᵀ, stored Z[ξ] (tiles × K,
            // packed for `PointGEMM`).
            parallelForEach(count, grain: 4) { local in
                let tile = first + local
                let (n, ty, tx) = grid.position(tile)
                withUnsafeTemporaryAllocation(of: Vector.self, capacity: 36) { t in
                    for k0 in stride(from: 0, to: k, by: 8) {
                        for i in 0..<4 {
                            let y = ty * 4 + i
                            for j in 0..<4 {
                                let xx = tx * 4 + j
                                t[i * 6 + j] = y < oh && xx < ow
                                    ? dy.loadUnaligned(fromByteOffset: (((n * oh + y) * ow + xx) * k + k0) * 4, as: Vector.self) : .zero
                            }
                        }
                        for i in 0..<4 {   // rows: ȳ Aᵀ (4 → 6 values per row)
                            let r = i * 6
                            let e = outputGradientTransform(t[r], t[r + 1], t[r + 2], t[r + 3])
                            (t[r], t[r + 1], t[r + 2], t[r + 3], t[r + 4], t[r + 5]) = e
                        }
                        for j in 0..<6 {   // columns: A (ȳ Aᵀ)
                            let e = outputGradientTransform(t[j], t[6 + j], t[12 + j], t[18 + j])
                            let stride = count * k * 4
                            let base = (j * count * k + PointGEMM.packedIndex(row: local, column: k0, rows: count, columns: k)) * 4
                            zRaw.storeBytes(of: e.0, toByteOffset: base, as: Vector.self)
                            zRaw.storeBytes(of: e.1, toByteOffset: base + 6 * stride, as: Vector.self)
                            zRaw.storeBytes(of: e.2, toByteOffset: base + 12 * stride, as: Vector.self)
                            zRaw.storeBytes(of: e.3, toByteOffset: base + 18 * stride, as: Vector.self)
                            zRaw.storeBytes(of: e.4, toByteOffset: base + 24 * stride, as: Vector.self)
                            zRaw.storeBytes(of: e.5, toByteOffset: base + 30 * stride, as: Vector.self)
                        }
                    }
                }
            }
            // S[ξ] (+)= V[ξ]ᵀ × Z[ξ], one single-threaded GEMM per thread at a time.
            let accumulate = first > 0
            parallelForEach(36) { xi in
                PointGEMM.multiply(v + xi * count * c, lda: c, transposedA: true, packed: z + xi * count * k,
                                   into: sums + xi * c * k, ldc: k, m: c, n: k, r: count, accumulate: accumulate, termsPerRun: 128)
            }
        }
        // ∂L/∂g = Gᵀ S G per (output, input) channel pair, eight output channels at a time.
        let plane = c * k
        let sumsRaw = UnsafeRawPointer(sums)
        parallelForEach(k / 8) { block in
            let o0 = block * 8
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: 54) { buffer in
                let m = buffer.baseAddress!, half = m + 36   // half: Gᵀ applied along s, 6×3
                for i in 0..<c {
                    for xi in 0..<36 { m[xi] = sumsRaw.loadUnaligned(fromByteOffset: (xi * plane + i * k + o0) * 4, as: Vector.self) }
                    for r in 0..<6 {
                        let e = filterGradientTransform(m[r * 6], m[r * 6 + 1], m[r * 6 + 2], m[r * 6 + 3], m[r * 6 + 4], m[r * 6 + 5])
                        (half[r * 3], half[r * 3 + 1], half[r * 3 + 2]) = e
                    }
                    for kx in 0..<3 {
                        let e = filterGradientTransform(half[kx], half[3 + kx], half[6 + kx], half[9 + kx], half[12 + kx], half[15 + kx])
                        for lane in 0..<8 {
                            let base = weightsGradient + ((o0 + lane) * 9 + kx) * c + i
                            base[0] = e.0[lane]; base[3 * c] = e.1[lane]; base[6 * c] = e.2[lane]
                        }
                    }
                }
            }
        }
    }
}
