import Testing
@testable import SRTensor
import _TestSupport

@Suite("Winograd F(4×4, 3×3) convolution")
struct WinogradTests {
    /// (N, H, W, C, K, padding top/bottom/left/right, bias)
    static let cases: [(Int, Int, Int, Int, Int, (Int, Int, Int, Int), Bool)] = [
        (1, 8, 8, 32, 32, (1, 1, 1, 1), true),       // two tiles per axis, exact fit
        (2, 13, 10, 40, 32, (1, 1, 1, 1), true),     // partial tiles on both axes, batch 2
        (1, 17, 19, 32, 48, (0, 0, 0, 0), false),    // valid convolution
        (1, 12, 9, 32, 40, (0, 1, 1, 0), true),      // asymmetric padding (as the reference's downsample)
        // ≥ 32 tiles, so the weights gradient takes Winograd too (`takesBackwardWeights`):
        (2, 20, 18, 40, 40, (1, 1, 1, 1), true),     // 50 tiles; 40 rows and columns (a partial row group, an 8-wide panel)
        (1, 27, 30, 32, 48, (0, 0, 0, 0), false),    // 49 tiles, valid convolution
    ]

    /// The tile grid of a same-padded 3×3 convolution.
    func grid(_ n: Int, _ h: Int, _ w: Int, _ c: Int, _ k: Int) -> WinogradConvolution.TileGrid {
        WinogradConvolution.TileGrid(ConvolutionGeometry(
            batch: n, height: h, width: w, inputChannels: c, outputChannels: k, kernelHeight: 3, kernelWidth: 3,
            strideY: 1, strideX: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true))
    }

    @Test("Large grids, where each thread pipelines its own blocks of tiles, match oneDNN forward, backward-data and backward-weights")
    func threadBlocksMatchDirect() {
        // 2 × 31 × 31 = 1,922 tiles (partial ones on the right): the per-thread pipeline for up to 8 threads.
        let (n, h, w, c, k) = (2, 124, 122, 32, 32)
        #expect(grid(n, h, w, c, k).usesThreadBlocks(inputChannels: c, outputChannels: k, threads: 8))
        #expect(!grid(1, 8, 8, 32, 32).usesThreadBlocks(inputChannels: 32, outputChannels: 32, threads: 2))
        let x = testTensor([n, h, w, c], seed: 31), weights = testTensor([k, 3, 3, c], seed: 32, lower: -0.3, upper: 0.3)
        let bias = testTensor([k], seed: 33), probe = testTensor([n, h, w, k], seed: 34)
        #expect(WinogradConvolution.takesBackwardWeights(ConvolutionGeometry(
            batch: n, height: h, width: w, inputChannels: c, outputChannels: k, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
            padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true)))
        let loss: ([Tensor]) -> Tensor = { p in (Tensor.conv2d(p[0], weights: p[1], bias: bias, padding: 1) * probe).sum() }
        let fast = withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: 1) }
        let (_, gradients) = valueAndGradient(at: [x, weights], of: loss)
        let (direct, directGradients) = withConvolutionAlgorithm(.direct) {
            (withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: 1) }, valueAndGradient(at: [x, weights], of: loss).1)
        }
        // The maximum over ~1 M outputs of the same per-output rounding as the small cases (3.6e-5
        // measured); a wrong tile, block or transform gives errors of order 1.
        #expect(relativeError(fast, direct) < 1e-4, "forward: \(relativeError(fast, direct))")
        #expect(relativeError(gradients[0], directGradients[0]) < 1e-4, "input gradient: \(relativeError(gradients[0], directGradients[0]))")
        // The weights gradient: sums over 1,922 tiles in several blocks (accumulated across them),
        // each weight a sum of ~30 K products: 3.8e-4 measured (5.1e-4 with dnnl_sgemm for the
        // point-wise GEMMs); dropping the accumulation across blocks gives 27.
        #expect(relativeError(gradients[1], directGradients[1]) < 1e-3, "weights gradient: \(relativeError(gradients[1], directGradients[1]))")
    }

    @Test("The point-wise GEMM's micro-kernel equals a plain triple loop (partial row groups, an 8-wide last panel, strided or transposed A, accumulation, sums in several runs)",
          arguments: [(13, 24, 20, false, false), (6, 16, 7, false, true), (5, 8, 64, true, false), (1, 40, 3, false, false), (16, 24, 9, true, true), (7, 16, 300, true, true)])
    func pointGEMMMatchesLoops(_ size: (Int, Int, Int, Bool, Bool)) {
        let (m, n, r, transposed, accumulate) = size
        let (lda, ldc) = ((transposed ? m : r) + 5, n + 3)
        let a = testTensor([(transposed ? r : m) * lda], seed: 41).scalars, b = testTensor([r * n], seed: 42).scalars
        var packed = [Float](repeating: .nan, count: r * n)
        for p in 0..<r { for j in 0..<n { packed[WinogradConvolution.PointGEMM.packedIndex(row: p, column: j, rows: r, columns: n)] = b[p * n + j] } }
        let covered = packed.allSatisfy { !$0.isNaN }
        #expect(covered, "packing covers every element")
        var c = [Float](repeating: -7, count: m * ldc)
        a.withUnsafeBufferPointer { a in packed.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
            WinogradConvolution.PointGEMM.multiply(a.baseAddress!, lda: lda, transposedA: transposed, packed: b.baseAddress!,
                                                   into: c.baseAddress!, ldc: ldc, m: m, n: n, r: r, accumulate: accumulate,
                                                   termsPerRun: transposed ? 128 : .max)
        } } }
        for i in 0..<m {
            for j in 0..<ldc {
                guard j < n else { #expect(c[i * ldc + j] == -7, "padding column \(j) of row \(i) untouched"); continue }
                var expected = accumulate ? -7.0 : 0
                for p in 0..<r { expected += Double(transposed ? a[p * lda + i] : a[i * lda + p]) * Double(b[p * n + j]) }
                #expect(abs(Double(c[i * ldc + j]) - expected) <= 1e-5 * (1 + abs(expected)), "c[\(i), \(j)]")
            }
        }
    }

    @Test("Matches oneDNN's direct convolution", arguments: cases.indices)
    func matchesDirect(_ index: Int) {
        let (n, h, w, c, k, padding, hasBias) = Self.cases[index]
        let x = testTensor([n, h, w, c], seed: 1 + UInt64(index))
        let weights = testTensor([k, 3, 3, c], seed: 11 + UInt64(index), lower: -0.3, upper: 0.3)
        let bias = hasBias ? testTensor([k], seed: 21 + UInt64(index)) : nil
        let fast = withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: padding) }
        let direct = withConvolutionAlgorithm(.direct) {
            withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: padding) }
        }
        #expect(fast.shape == direct.shape)
        // Float32 rounding of the transforms: up to 3.7e-5 measured (the 49-tile valid case with
        // the changed weight below); a wrong tile or transform gives errors of order 1.
        let tolerance = 5e-5
        #expect(relativeError(fast, direct) < tolerance, "relative error \(relativeError(fast, direct))")
        // Weights changed in place invalidate the cached transformed filters.
        var changed = weights
        changed.withUnsafeMutableBufferPointer { $0[0] += 1 }
        let again = withoutGradients { Tensor.conv2d(x, weights: changed, bias: bias, padding: padding) }
        let reference = withConvolutionAlgorithm(.direct) { withoutGradients { Tensor.conv2d(x, weights: changed, bias: bias, padding: padding) } }
        #expect(relativeError(again, reference) < tolerance, "relative error \(relativeError(again, reference))")
        #expect(relativeError(again, fast) > 1e-2)
    }

    @Test("Gradients (Winograd backward-data and backward-weights) equal the direct path's", arguments: cases.indices)
    func gradientsMatchDirect(_ index: Int) {
        let (n, h, w, c, k, padding, hasBias) = Self.cases[index]
        let geometry = ConvolutionGeometry(
            batch: n, height: h, width: w, inputChannels: c, outputChannels: k, kernelHeight: 3, kernelWidth: 3, strideY: 1, strideX: 1,
            padTop: padding.0, padBottom: padding.1, padLeft: padding.2, padRight: padding.3, hasBias: hasBias)
        #expect(WinogradConvolution.takesBackwardWeights(geometry) == (index >= 4), "weights gradient by Winograd only from 32 tiles")
        let x = testTensor([n, h, w, c], seed: 3 + UInt64(index)), weights = testTensor([k, 3, 3, c], seed: 4, lower: -0.3, upper: 0.3)
        let bias = hasBias ? testTensor([k], seed: 6) : testTensor([k], seed: 6) * 0
        let outputShape = withoutGradients { Tensor.conv2d(x, weights: weights, padding: padding) }.shape
        let probe = testTensor(outputShape, seed: 5)
        let loss: ([Tensor]) -> Tensor = { p in (Tensor.conv2d(p[0], weights: p[1], bias: p[2], padding: padding) * probe).sum() }
        let (value, gradients) = valueAndGradient(at: [x, weights, bias], of: loss)
        let (directValue, directGradients) = withConvolutionAlgorithm(.direct) { valueAndGradient(at: [x, weights, bias], of: loss) }
        #expect(abs(value.scalar - directValue.scalar) <= 1e-4 * (1 + abs(directValue.scalar)))
        #expect(relativeError(gradients[0], directGradients[0]) < 3e-5, "input gradient: \(relativeError(gradients[0], directGradients[0]))")
        // The weights gradient sums every tile in the transformed domain, where F(4×4, 3×3)'s
        // transforms amplify rounding: 3.7e-5 at the 17×19 valid case with oneDNN's sgemm (under
        // 3e-5 with OpenBLAS's summation order); a wrong transform gives errors of order 1.
        #expect(relativeError(gradients[1], directGradients[1]) < 1e-4, "weights gradient: \(relativeError(gradients[1], directGradients[1]))")
        #expect(relativeError(gradients[2], directGradients[2]) < 1e-5, "bias gradient: \(relativeError(gradients[2], directGradients[2]))")
    }
}
