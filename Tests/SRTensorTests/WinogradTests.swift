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
    ]

    /// The tile grid of a same-padded 3×3 convolution.
    func grid(_ n: Int, _ h: Int, _ w: Int, _ c: Int, _ k: Int) -> WinogradConvolution.TileGrid {
        WinogradConvolution.TileGrid(ConvolutionGeometry(
            batch: n, height: h, width: w, inputChannels: c, outputChannels: k, kernelHeight: 3, kernelWidth: 3,
            strideY: 1, strideX: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1, hasBias: true))
    }

    @Test("Large grids, where each thread pipelines its own blocks of tiles, match oneDNN forward and backward-data")
    func threadBlocksMatchDirect() {
        // 2 × 31 × 31 = 1,922 tiles (partial ones on the right): the per-thread pipeline for up to 8 threads.
        let (n, h, w, c, k) = (2, 124, 122, 32, 32)
        #expect(grid(n, h, w, c, k).usesThreadBlocks(inputChannels: c, outputChannels: k, threads: 8))
        #expect(!grid(1, 8, 8, 32, 32).usesThreadBlocks(inputChannels: 32, outputChannels: 32, threads: 2))
        let x = testTensor([n, h, w, c], seed: 31), weights = testTensor([k, 3, 3, c], seed: 32, lower: -0.3, upper: 0.3)
        let bias = testTensor([k], seed: 33), probe = testTensor([n, h, w, k], seed: 34)
        let loss: ([Tensor]) -> Tensor = { p in (Tensor.conv2d(p[0], weights: weights, bias: bias, padding: 1) * probe).sum() }
        let fast = withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: 1) }
        let (_, gradients) = valueAndGradient(at: [x], of: loss)
        let (direct, directGradients) = withConvolutionAlgorithm(.direct) {
            (withoutGradients { Tensor.conv2d(x, weights: weights, bias: bias, padding: 1) }, valueAndGradient(at: [x], of: loss).1)
        }
        // The maximum over ~1 M outputs of the same per-output rounding as the small cases (3.6e-5
        // measured); a wrong tile, block or transform gives errors of order 1.
        #expect(relativeError(fast, direct) < 1e-4, "forward: \(relativeError(fast, direct))")
        #expect(relativeError(gradients[0], directGradients[0]) < 1e-4, "input gradient: \(relativeError(gradients[0], directGradients[0]))")
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
        #expect(relativeError(fast, direct) < 3e-5, "relative error \(relativeError(fast, direct))")
        // Weights changed in place invalidate the cached transformed filters.
        var changed = weights
        changed.withUnsafeMutableBufferPointer { $0[0] += 1 }
        let again = withoutGradients { Tensor.conv2d(x, weights: changed, bias: bias, padding: padding) }
        let reference = withConvolutionAlgorithm(.direct) { withoutGradients { Tensor.conv2d(x, weights: changed, bias: bias, padding: padding) } }
        #expect(relativeError(again, reference) < 3e-5)
        #expect(relativeError(again, fast) > 1e-2)
    }

    @Test("Gradients (Winograd backward-data and backward-weights) equal the direct path's", arguments: cases.indices)
    func gradientsMatchDirect(_ index: Int) {
        let (n, h, w, c, k, padding, hasBias) = Self.cases[index]
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
