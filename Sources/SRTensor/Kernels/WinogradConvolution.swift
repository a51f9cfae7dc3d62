import Foundation
import SRSupport

/// 3×3, stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2016,
/// "Fast Algorithms for Convolutional Neural Networks"): each 6×6 input tile and each 3×3 filter
/// are transformed (Bᵀ d B, G g Gᵀ), multiplied point-wise — 36 GEMMs `[tiles × C] × [C × K]`
/// through `BLAS.gemm` (oneDNN's sgemm by default), block by block of tiles — and transformed
/// back (Aᵀ m A) into 4×4 output tiles. 2.25× fewer multiplications than direct convolution on
/// the GEMM side (36 instead of 144 per 4×4 output tile and channel pair).
///
/// Why: Debian's oneDNN 2.6 has no AVX2 Winograd and its direct NHWC kernels run 1.5× slower than
/// PyTorch's (oneDNN 3.x) on 64–128-channel 3×3 convolutions here (Benchmarks/README.md).
///
/// Matches: the points (0, ±1, ±2, ∞) and matrices of Lavin & Gray (as in NNPACK / wincnn).
/// Also the backward passes of such convolutions: backward-data as a transposed convolution
/// (flipped filters, channels swapped, padding 2 − p), backward-weights by the transposed algorithm
/// (`backwardWeights`). Limitations: channels that are multiples of 8 (SIMD8 over NHWC channels); float32 rounding of the transforms gives errors
/// of ~1e-5 (max |Δ| / (1 + |y|) on random data with 32–48 channels) — more than direct convolution's ~1e-7,
/// far below what sampling notices. Transformed filters are cached on the weights' storage.
enum WinogradConvolution {
    /// Whether a geometry takes this path: 3×3, stride 1, channels multiples of 8 and at least 32,
    /// an output of at least 8×8. (At 16 channels the transforms, which are memory-bound, cost more
    /// than the GEMMs save: 26.9 ms vs oneDNN's 8.7 ms at 512×512; at 32, 47.5 vs 57.5 ms.)
    static func isApplicable(_ g: ConvolutionGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1
            && g.inputChannels % 8 == 0 && g.outputChannels % 8 == 0 && g.inputChannels >= 32 && g.outputChannels >= 32
            && g.outputHeight >= 8 && g.outputWidth >= 8
    }

    /// The transformed filters U = G g Gᵀ, laid out `[36][C][K]`; for the backward-data pass
    /// (`transposed`) those of the flipped, channel-swapped filters, laid out `[36][K][C]`.
    final class TransformedFilters {
        let pointer: UnsafeMutablePointer<Float>
        init(count: Int) { pointer = .allocate(capacity: count) }
        deinit { pointer.deallocate() }
    }

    static func filters(_ weights: Tensor, inputChannels c: Int, outputChannels k: Int, transposed: Bool = false) -> TransformedFilters {
        weights.storage.derivedValue(key: transposed ? "winograd-f4x4-3x3-transposed" : "winograd-f4x4-3x3") { () -> TransformedFilters in
            let filters = TransformedFilters(count: 36 * c * k)
            let w = weights.storage.pointer, u = filters.pointer
            let plane = c * k
            // Eight output channels at a time (k is a multiple of 8): one SIMD lane each.
            parallelForEach(k / 8) { block in
                let o0 = block * 8
                withUnsafeTemporaryAllocation(of: Vector.self, capacity: 27) { buffer in
                    let g = buffer.baseAddress!, left = g + 9
                    for i in 0..<c {
                        for r in 0..<9 {
                            let tap = transposed ? 8 - r : r
                            var lanes = Vector.zero
                            for lane in 0..<8 { lanes[lane] = w[((o0 + lane) * 9 + tap) * c + i] }
                            g[r] = lanes
                        }
                        for j in 0..<3 {   // G · column j of g → column j of left (6×3)
                            let t = filterTransform(g[j], g[3 + j], g[6 + j])
                            (left[j], left[3 + j], left[6 + j], left[9 + j], left[12 + j], left[15 + j]) = t
                        }
                        // Row r of left · Gᵀ → U[ξ = 6r + s], lane l = output channel o0 + l.
                        func store(_ value: Vector, _ xi: Int) {
                            if transposed {   // [36][K][C]: the lanes are c floats apart
                                for lane in 0..<8 { u[xi * plane + (o0 + lane) * c + i] = value[lane] }
                            } else {          // [36][C][K]: the lanes are adjacent
                                UnsafeMutableRawPointer(u).storeBytes(of: value, toByteOffset: (xi * plane + i * k + o0) * 4, as: Vector.self)
                            }
                        }
                        for r in 0..<6 {
                            let t = filterTransform(left[r * 3], left[r * 3 + 1], left[r * 3 + 2])
                            store(t.0, r * 6); store(t.1, r * 6 + 1); store(t.2, r * 6 + 2)
                            store(t.3, r * 6 + 3); store(t.4, r * 6 + 4); store(t.5, r * 6 + 5)
                        }
                    }
                }
            }
            return filters
        }
    }

    typealias Vector = SIMD8<Float>

    /// The 4×4 output tiles of a geometry, numbered image by image, row by row.
    struct TileGrid {
        let rows: Int, columns: Int, count: Int
        init(_ g: ConvolutionGeometry) {
            rows = (g.outputHeight + 3) / 4
            columns = (g.outputWidth + 3) / 4
            count = g.batch * rows * columns
        }
        /// Tiles per block, so that a block's transformed data (36 × tiles × (C + K) floats) stays
        /// near 4 MB, in cache between the transforms and the GEMMs (measured: 1.3× faster than
        /// 16 MB blocks at 64 channels).
        func tilesPerBlock(inputChannels c: Int, outputChannels k: Int) -> Int {
            max(32, min(count, (4 << 20) / (36 * (c + k) * 4)))
        }
        /// Tiles per block when each thread pipelines its own blocks: a block's transformed data
        /// (36 × tiles × (C + K) floats) near 1 MB, at least 16 tiles. (Measured at 64 channels,
        /// alternating runs: 1 and 2 MB alike, 512 KB slower at 128² and 256².)
        func tilesPerThreadBlock(inputChannels c: Int, outputChannels k: Int) -> Int {
            max(16, (1 << 20) / (36 * (c + k) * 4))
        }
        /// Whether each of `threads` threads gets at least two blocks of its own (`run`'s pipeline);
        /// otherwise the threads share each block (`runSharedBlocks`).
        func usesThreadBlocks(inputChannels c: Int, outputChannels k: Int, threads: Int) -> Bool {
            count >= 2 * threads * tilesPerThreadBlock(inputChannels: c, outputChannels: k)
        }
        /// (image, tile row, tile column) of tile number `tile`.
        @inline(__always) func position(_ tile: Int) -> (Int, Int, Int) {
            (tile / (rows * columns), tile % (rows * columns) / columns, tile % columns)
        }
    }

    /// Where the 36 transformed values of a tile sit in a block buffer of V (input) or M (GEMM
    /// output): point ξ, channel 0 of the block's tile t at byte offset ξ · planeBytes + t · tileBytes.
    struct TileLayout {
        let planeBytes: Int, tileBytes: Int
        /// `[ξ][tile][channels]`: each point's matrix dense (the backward-weights GEMMs read it
        /// transposed).
        static func planeMajor(tiles: Int, channels: Int) -> TileLayout {
            TileLayout(planeBytes: tiles * channels * 4, tileBytes: channels * 4)
        }
        /// `[tile][ξ][channels]`: a tile's 36 points together, so the transforms read and write one
        /// contiguous stretch per tile; point ξ's matrix has its rows 36 · channels floats apart.
        static func tileMajor(channels: Int) -> TileLayout {
            TileLayout(planeBytes: channels * 4, tileBytes: 36 * channels * 4)
        }
        /// Floats from one point's matrix to the next (`BLAS.gemm`'s pointer offset) and between its rows.
        var planeFloats: Int { planeBytes / 4 }
        var rowFloats: Int { tileBytes / 4 }
    }

    /// `body(i)` for i in 0..<count: across the threads (four tiles per chunk at least), or inline
    /// on this thread when it already is one of a parallel region's.
    @inline(__always)
    static func forEachTile(_ count: Int, parallel: Bool, _ body: (Int) -> Void) {
        if parallel { parallelForEach(count, grain: 4, body) } else { for i in 0..<count { body(i) } }
    }

    /// G (6×3, points 0, 1, −1, 2, −2, ∞) applied to three filter taps.
    @inline(__always)
    static func filterTransform(_ a: Vector, _ b: Vector, _ c: Vector) -> (Vector, Vector, Vector, Vector, Vector, Vector) {
        let q = a * (1 / 24) + c * (1 / 6), r = b * (1 / 12)
        return (a * 0.25, (a + b + c) * (-1 / 6), (a - b + c) * (-1 / 6), q + r, q - r, c)
    }

    /// Bᵀ applied to six values (one column or row of a 6×6 tile).
    @inline(__always)
    static func inputTransform(_ d0: Vector, _ d1: Vector, _ d2: Vector, _ d3: Vector, _ d4: Vector, _ d5: Vector)
        -> (Vector, Vector, Vector, Vector, Vector, Vector)
    {
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// Aᵀ applied to six values.
    @inline(__always)
    static func outputTransform(_ m0: Vector, _ m1: Vector, _ m2: Vector, _ m3: Vector, _ m4: Vector, _ m5: Vector)
        -> (Vector, Vector, Vector, Vector)
    {
        let p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4
        return (m0 + p + r, q + 2 * s, p + 4 * r, q + 8 * s + m5)
    }

    /// Input tiles `first..<first+count` (6×6, stride 4, zero outside the image) → Bᵀ d B, stored
    /// at `layout`'s places for points ξ = 0…35 and tiles `tile − first`.
    ///
    /// Tiles wholly inside the image (all but the border ones) load their columns straight from
    /// one base address and transform them as they arrive, with wrapping index arithmetic (no
    /// bounds or overflow checks in the loop); border tiles load element by element with zeros
    /// outside the image.
    static func transformInputTiles(_ x: UnsafeRawPointer, geometry g: ConvolutionGeometry, first: Int, count: Int,
                                    into vRaw: UnsafeMutableRawPointer, layout: TileLayout, parallel: Bool = true) {
        let (c, h, w) = (g.inputChannels, g.height, g.width)
        let grid = TileGrid(g)
        let rowBytes = w &* c &* 4, pixelBytes = c &* 4, planeBytes = layout.planeBytes, tileBytes = layout.tileBytes
        forEachTile(count, parallel: parallel) { local in
            let tile = first + local
            let (n, ty, tx) = grid.position(tile)
            let y0 = ty * 4 - g.padTop, x0 = tx * 4 - g.padLeft
            let interior = y0 >= 0 && x0 >= 0 && y0 + 6 <= h && x0 + 6 <= w
            let origin = interior ? (((n &* h &+ y0) &* w &+ x0) &* c) &* 4 : 0
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: 36) { d in
                for c0 in stride(from: 0, to: c, by: 8) {
                    if interior {
                        let p = x + (origin &+ c0 &* 4)
                        for j in 0..<6 {   // column j, loaded and transformed: Bᵀ d
                            let q = p + j &* pixelBytes
                            let t = inputTransform(
                                q.loadUnaligned(as: Vector.self), q.loadUnaligned(fromByteOffset: rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 2 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 3 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 4 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 5 &* rowBytes, as: Vector.self))
                            (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j]) = t
                        }
                    } else {
                        for i in 0..<6 {
                            let y = y0 + i
                            for j in 0..<6 {
                                let xx = x0 + j
                                d[i * 6 + j] = y >= 0 && y < h && xx >= 0 && xx < w
                                    ? x.loadUnaligned(fromByteOffset: (((n * h + y) * w + xx) * c + c0) * 4, as: Vector.self) : .zero
                            }
                        }
                        for j in 0..<6 {   // columns: Bᵀ d
                            let t = inputTransform(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j])
                            (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j]) = t
                        }
                    }
                    for i in 0..<6 {   // rows: (Bᵀ d) B
                        let r = i * 6
                        let t = inputTransform(d[r], d[r + 1], d[r + 2], d[r + 3], d[r + 4], d[r + 5])
                        let q = vRaw + (r &* planeBytes &+ local &* tileBytes &+ c0 &* 4)
                        q.storeBytes(of: t.0, as: Vector.self)
                        q.storeBytes(of: t.1, toByteOffset: planeBytes, as: Vector.self)
                        q.storeBytes(of: t.2, toByteOffset: 2 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.3, toByteOffset: 3 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.4, toByteOffset: 4 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.5, toByteOffset: 5 &* planeBytes, as: Vector.self)
                    }
                }
            }
        }
    }

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

    /// weightsGradient (`[K, 3, 3, C]`, written) = ∂L/∂weights of conv(input, weights) for
    /// `outputGradient` (`[N, H', W', K]`), for an applicable geometry. By the transposition of the
    /// forward algorithm, y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A gives ∂L/∂g = Gᵀ[Σ_tiles (A ȳ Aᵀ) ⊙ (Bᵀ d B)]G:
    /// the input tiles are transformed as in the forward pass, the 4×4 output-gradient tiles by A,
    /// and the 36 sums over tiles are GEMMs `[C × tiles] × [tiles × K]`.
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
            // Output-gradient tiles (4×4, zero beyond the output) → A ȳ Aᵀ, stored Z[ξ][tile][K].
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
                            let stride = count * k * 4, base = ((j * count + local) * k + k0) * 4
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
                BLAS.gemm(v + xi * count * c, z + xi * count * k, sums + xi * c * k, m: c, n: k, k: count,
                          transposeA: true, accumulate: accumulate)
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

    /// What is added to the convolution as its output tiles are written: the bias `[K]`, and an
    /// addend — the whole output's shape `[N, H', W', K]` (a residual) or `[N, 1, 1, K]` (one shift
    /// per batch element and channel, `perSample`). Pointers into tensors the caller keeps alive.
    struct OutputTerms {
        var bias: UnsafeRawPointer? = nil
        var addend: UnsafeRawPointer? = nil
        var perSample = false
        static var none: OutputTerms { OutputTerms() }
    }

    /// out = conv(input, weights) + bias (+ addend) for an applicable geometry.
    static func forward(input: Tensor, weights: Tensor, terms: OutputTerms, geometry g: ConvolutionGeometry,
                        output: UnsafeMutablePointer<Float>) {
        let u = filters(weights, inputChannels: g.inputChannels, outputChannels: g.outputChannels)
        run(input: input, filters: u.pointer, terms: terms, geometry: g, output: output)
    }

    /// The geometry of the backward-data pass of `g` as a convolution: the output gradient
    /// `[N, H', W', K]` correlated with the flipped filters (K in, C out), padded by 2 − p on each
    /// side, gives the input gradient `[N, H, W, C]` (stride 1). Nil when that pass does not take
    /// this path (padding above 2, or the swapped geometry is not applicable).
    static func backwardDataGeometry(_ g: ConvolutionGeometry) -> ConvolutionGeometry? {
        guard g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1,
              [g.padTop, g.padBottom, g.padLeft, g.padRight].allSatisfy({ (0...2).contains($0) }) else { return nil }
        let t = ConvolutionGeometry(
            batch: g.batch, height: g.outputHeight, width: g.outputWidth, inputChannels: g.outputChannels,
            outputChannels: g.inputChannels, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
            padTop: 2 - g.padTop, padBottom: 2 - g.padBottom, padLeft: 2 - g.padLeft, padRight: 2 - g.padRight, hasBias: false)
        guard t.outputHeight == g.height && t.outputWidth == g.width && isApplicable(t) else { return nil }
        return t
    }

    /// inputGradient = ∂L/∂input of conv(input, weights) for `outputGradient` (`[N, H', W', K]`),
    /// when `backwardDataGeometry(g)` exists: the transposed convolution run as a forward Winograd
    /// convolution (written, not accumulated).
    static func backwardData(outputGradient: Tensor, weights: Tensor, geometry g: ConvolutionGeometry,
                             inputGradient: UnsafeMutablePointer<Float>) {
        let t = backwardDataGeometry(g)!
        let u = filters(weights, inputChannels: g.inputChannels, outputChannels: g.outputChannels, transposed: true)
        run(input: outputGradient, filters: u.pointer, terms: .none, geometry: t, output: inputGradient)
    }

    /// out = conv(input, U) + `terms` with filters already transformed (`[36][C][K]` for `g`).
    ///
    /// Each thread runs the whole pipeline on its own blocks of tiles — input transform, the 36
    /// GEMMs `[tiles × C] × [C × K]` (single-threaded inside the parallel region), output
    /// transform — so a block's transformed data stays near that core and the threads never wait
    /// on each other between the phases (the shared-block version spent 16 % of a 64-channel
    /// 256² convolution in OpenMP's barriers). Measured against it, alternating runs on 2 cores:
    /// 0.80× the time at 64 channels and 256², 0.90× at 128², the SR3 training step 0.93–0.97×.
    /// The threads claim blocks one at a time (`WorkQueue`; measured against a static split,
    /// fastest of 5 alternating runs on a noisy host: 0.85–1.01×, most cases 0.95–0.98×).
    static func run(input: Tensor, filters u: UnsafeMutablePointer<Float>, terms: OutputTerms, geometry g: ConvolutionGeometry,
                    output: UnsafeMutablePointer<Float>) {
        let (c, k) = (g.inputChannels, g.outputChannels)
        let grid = TileGrid(g), tiles = grid.count
        let threads = ComputeThreads.count
        guard grid.usesThreadBlocks(inputChannels: c, outputChannels: k, threads: threads) else {
            return runSharedBlocks(input: input, filters: u, terms: terms, geometry: g, output: output)
        }
        let perBlock = grid.tilesPerThreadBlock(inputChannels: c, outputChannels: k)
        let blocks = (tiles + perBlock - 1) / perBlock
        let inputLayout = TileLayout.tileMajor(channels: c), outputLayout = TileLayout.tileMajor(channels: k)
        let x = UnsafeRawPointer(input.storage.pointer)
        let out = UnsafeMutableRawPointer(output)
        let queue = WorkQueue(count: blocks)   // each thread claims the next block when done with one
        parallelTeam(threads) { _, _ in
            let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * c)
            let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * k)
            defer { v.deallocate(); m.deallocate() }
            while let block = queue.next() {
                let first = block * perBlock, count = min(perBlock, tiles - first)
                transformInputTiles(x, geometry: g, first: first, count: count, into: UnsafeMutableRawPointer(v),
                                    layout: inputLayout, parallel: false)
                for xi in 0..<36 {   // M[ξ] = V[ξ] × U[ξ]
                    BLAS.gemm(v + xi * inputLayout.planeFloats, u + xi * c * k, m + xi * outputLayout.planeFloats, m: count, n: k, k: c,
                              lda: inputLayout.rowFloats, ldc: outputLayout.rowFloats)
                }
                transformOutputTiles(UnsafeRawPointer(m), geometry: g, first: first, count: count, layout: outputLayout,
                                     terms: terms, into: out)
            }
        }
    }

    /// M (`layout`, K channels) of tiles `first..<first+count` → their 4×4 output tiles (+ the
    /// bias and addend of `terms`), on the calling thread. Each column of M is transformed as it is
    /// loaded (Aᵀ m), then each row (· A); full tiles store without per-column checks.
    static func transformOutputTiles(_ mRaw: UnsafeRawPointer, geometry g: ConvolutionGeometry, first: Int, count: Int,
                                     layout: TileLayout, terms: OutputTerms, into out: UnsafeMutableRawPointer) {
        let k = g.outputChannels
        let planeBytes = layout.planeBytes, tileBytes = layout.tileBytes
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let grid = TileGrid(g)
        let pixelBytes = k &* 4, rowBytes = ow &* k &* 4
        let residual = terms.perSample ? nil : terms.addend
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 24) { t in
            for local in 0..<count {
                let tile = first + local
                let (n, ty, tx) = grid.position(tile)
                let rows = min(4, oh - ty * 4), columns = min(4, ow - tx * 4)
                let origin = (((n &* oh &+ ty &* 4) &* ow &+ tx &* 4) &* k) &* 4
                for k0 in stride(from: 0, to: k, by: 8) {
                    let p = mRaw + (local &* tileBytes &+ k0 &* 4)
                    for j in 0..<6 {   // column j of the 6×6 tile: Aᵀ m (4 of 6 rows kept)
                        let q = p + j &* planeBytes
                        let r = outputTransform(
                            q.loadUnaligned(as: Vector.self), q.loadUnaligned(fromByteOffset: 6 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 12 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 18 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 24 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 30 &* planeBytes, as: Vector.self))
                        (t[j], t[6 + j], t[12 + j], t[18 + j]) = r
                    }
                    var b = terms.bias.map { $0.loadUnaligned(fromByteOffset: k0 * 4, as: Vector.self) } ?? .zero
                    if terms.perSample, let shift = terms.addend {
                        b += shift.loadUnaligned(fromByteOffset: (n &* k &+ k0) &* 4, as: Vector.self)
                    }
                    for i in 0..<rows {
                        let r = i * 6
                        let y = outputTransform(t[r], t[r + 1], t[r + 2], t[r + 3], t[r + 4], t[r + 5])
                        let offset = origin &+ i &* rowBytes &+ k0 &* 4
                        var v = (y.0 + b, y.1 + b, y.2 + b, y.3 + b)
                        if let residual {
                            let q = residual + offset
                            v.0 += q.loadUnaligned(as: Vector.self)
                            if columns > 1 { v.1 += q.loadUnaligned(fromByteOffset: pixelBytes, as: Vector.self) }
                            if columns > 2 { v.2 += q.loadUnaligned(fromByteOffset: 2 &* pixelBytes, as: Vector.self) }
                            if columns > 3 { v.3 += q.loadUnaligned(fromByteOffset: 3 &* pixelBytes, as: Vector.self) }
                        }
                        let o = out + offset
                        o.storeBytes(of: v.0, as: Vector.self)
                        if columns == 4 {
                            o.storeBytes(of: v.1, toByteOffset: pixelBytes, as: Vector.self)
                            o.storeBytes(of: v.2, toByteOffset: 2 &* pixelBytes, as: Vector.self)
                            o.storeBytes(of: v.3, toByteOffset: 3 &* pixelBytes, as: Vector.self)
                        } else {
                            if columns > 1 { o.storeBytes(of: v.1, toByteOffset: pixelBytes, as: Vector.self) }
                            if columns > 2 { o.storeBytes(of: v.2, toByteOffset: 2 &* pixelBytes, as: Vector.self) }
                        }
                    }
                }
            }
        }
    }

    /// `run` for grids too small to give every thread two blocks of its own (deep layers at low
    /// resolution): the threads share each block — the transform of its tiles, its 36 GEMMs (one
    /// per thread at a time), the output transform — with a barrier between the phases.
    static func runSharedBlocks(input: Tensor, filters u: UnsafeMutablePointer<Float>, terms: OutputTerms, geometry g: ConvolutionGeometry,
                                output: UnsafeMutablePointer<Float>) {
        let (c, k) = (g.inputChannels, g.outputChannels)
        let grid = TileGrid(g), tiles = grid.count
        let perBlock = grid.tilesPerBlock(inputChannels: c, outputChannels: k)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * c)
        let m = UnsafeMutablePointer<Float>.allocate(capacity: 36 * perBlock * k)
        defer { v.deallocate(); m.deallocate() }
        let x = UnsafeRawPointer(input.storage.pointer)
        let out = UnsafeMutableRawPointer(output)
        for first in stride(from: 0, to: tiles, by: perBlock) {
            let count = min(perBlock, tiles - first)
            let inputLayout = TileLayout.tileMajor(channels: c), outputLayout = TileLayout.tileMajor(channels: k)
            transformInputTiles(x, geometry: g, first: first, count: count, into: UnsafeMutableRawPointer(v), layout: inputLayout)
            // M[ξ] = V[ξ] × U[ξ].
            // One GEMM per thread at a time: inside an OpenMP region the GEMMs run single-threaded.
            parallelForEach(36) { xi in
                BLAS.gemm(v + xi * inputLayout.planeFloats, u + xi * c * k, m + xi * outputLayout.planeFloats, m: count, n: k, k: c,
                          lda: inputLayout.rowFloats, ldc: outputLayout.rowFloats)
            }
            // M → 4×4 output tiles (+ bias and addend).
            parallelChunks(count, grain: 4) { range in
                transformOutputTiles(UnsafeRawPointer(m) + range.lowerBound * outputLayout.tileBytes, geometry: g,
                                     first: first + range.lowerBound, count: range.count, layout: outputLayout, terms: terms, into: out)
            }
        }
    }
}
