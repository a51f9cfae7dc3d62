import Foundation
import SRSupport

/// 3×3, stride-1 convolution by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray 2016,
/// "Fast Algorithms for Convolutional Neural Networks"): each 6×6 input tile and each 3×3 filter
/// are transformed (Bᵀ d B, G g Gᵀ), multiplied point-wise — 36 GEMMs `[tiles × C] × [C × K]`
/// by `PointGEMM`'s micro-kernel on pre-packed filters, block by block of tiles — and transformed
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
///
/// Files: this one (applicability, tile grid and block layouts, the forward and backward-data
/// pipelines), `WinogradTransforms.swift` (the tile and filter transforms), `WinogradGEMM.swift`
/// (the point-wise GEMMs), `WinogradBackwardWeights.swift` (the weights gradient).
enum WinogradConvolution {
    /// Whether a geometry takes this path: 3×3, stride 1, channels multiples of 8 and at least 32,
    /// an output of at least 8×8. (At 16 channels the transforms, which are memory-bound, cost more
    /// than the GEMMs save: 26.9 ms vs oneDNN's 8.7 ms at 512×512; at 32, 47.5 vs 57.5 ms.)
    static func isApplicable(_ g: ConvolutionGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideY == 1 && g.strideX == 1
            && g.inputChannels % 8 == 0 && g.outputChannels % 8 == 0 && g.inputChannels >= 32 && g.outputChannels >= 32
            && g.outputHeight >= 8 && g.outputWidth >= 8
    }

    /// Whether the forward pass should transform these filters: always when their transform is
    /// cached or fits the `DerivedValueCache` budget; otherwise only for images of at least 64
    /// output tiles. The transform writes 36 values per input-output channel pair, so on a small
    /// image whose filters must be transformed anew at every call (a large model past the budget:
    /// StableSR's 1280-channel 8×8 level) it costs more than the convolution; oneDNN's direct
    /// kernel, which needs only a reorder of the 9 weights, is cheaper there.
    static func filtersAffordable(_ weights: Tensor, geometry g: ConvolutionGeometry) -> Bool {
        if TileGrid(g).count >= 64 { return true }
        if weights.storage.hasDerivedValue(key: "winograd-f4x4-3x3-packed") { return true }
        return DerivedValueCache.hasRoom(36 * g.inputChannels * g.outputChannels * MemoryLayout<Float>.stride)
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
        /// From 24 tiles on, rounded to the nearest multiple of 6, the point-wise GEMMs' row group
        /// (`PointGEMM`), so that no group computes rows it does not store: 54 tiles at 64 channels
        /// (56 before: 0.97× the time, fastest of 8 alternating runs), 30 at 128 (28: 0.94×). At 256
        /// channels and more, 16 (18 measured 1.11×: 64 tiles split unevenly into 4 blocks).
        func tilesPerThreadBlock(inputChannels c: Int, outputChannels k: Int) -> Int {
            let tiles = tilesPerMegabyte(inputChannels: c, outputChannels: k)
            return tiles >= 24 ? (tiles + 3) / 6 * 6 : 16
        }
        /// Whether each of `threads` threads gets at least two blocks of its own (`run`'s pipeline)
        /// of at least 16 tiles; otherwise the threads share each block (`runSharedBlocks`).
        func usesThreadBlocks(inputChannels c: Int, outputChannels k: Int, threads: Int) -> Bool {
            count >= 2 * threads * max(16, tilesPerMegabyte(inputChannels: c, outputChannels: k))
        }
        /// Tiles whose transformed data (36 × (C + K) floats each) fill 1 MB.
        private func tilesPerMegabyte(inputChannels c: Int, outputChannels k: Int) -> Int {
            (1 << 20) / (36 * (c + k) * 4)
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
        /// Floats from one point's matrix to the next (the GEMMs' pointer offset) and between its rows.
        var planeFloats: Int { planeBytes / 4 }
        var rowFloats: Int { tileBytes / 4 }
    }

    /// `body(i)` for i in 0..<count: across the threads (four tiles per chunk at least), or inline
    /// on this thread when it already is one of a parallel region's.
    @inline(__always)
    static func forEachTile(_ count: Int, parallel: Bool, _ body: (Int) -> Void) {
        if parallel { parallelForEach(count, grain: 4, body) } else { for i in 0..<count { body(i) } }
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
        // Kept alive through `run`: filters the cache does not keep (over its budget, or outside
        // admission) are freed when their last reference goes, which without this is `u.pointer`.
        let u = filters(weights, inputChannels: g.inputChannels, outputChannels: g.outputChannels)
        withExtendedLifetime(u) { run(input: input, filters: u.pointer, terms: terms, geometry: g, output: output) }
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
        withExtendedLifetime(u) { run(input: outputGradient, filters: u.pointer, terms: .none, geometry: t, output: inputGradient) }
    }

    /// out = conv(input, U) + `terms` with filters already transformed and packed (`filters`, C × K for `g`).
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
                    PointGEMM.multiply(v + xi * inputLayout.planeFloats, lda: inputLayout.rowFloats, packed: u + xi * c * k,
                                       into: m + xi * outputLayout.planeFloats, ldc: outputLayout.rowFloats, m: count, n: k, r: c)
                }
                transformOutputTiles(UnsafeRawPointer(m), geometry: g, first: first, count: count, layout: outputLayout,
                                     terms: terms, into: out)
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
            // One GEMM per thread at a time.
            parallelForEach(36) { xi in
                PointGEMM.multiply(v + xi * inputLayout.planeFloats, lda: inputLayout.rowFloats, packed: u + xi * c * k,
                                   into: m + xi * outputLayout.planeFloats, ldc: outputLayout.rowFloats, m: count, n: k, r: c)
            }
            // M → 4×4 output tiles (+ bias and addend).
            parallelChunks(count, grain: 4) { range in
                transformOutputTiles(UnsafeRawPointer(m) + range.lowerBound * outputLayout.tileBytes, geometry: g,
                                     first: first + range.lowerBound, count: range.count, layout: outputLayout, terms: terms, into: out)
            }
        }
    }
}
