import Testing
import SRTensor
import _TestSupport

@Suite("Convolution with a fused addend")
struct ConvolutionAddendTests {
    /// (N, H, W, C, K, stride, per-sample addend): Winograd geometries (3×3, stride 1, ≥ 32
    /// channels; 2 × 40 × 36 gives 2 × 10 × 9 tiles, with per-thread blocks from 2 threads on) and
    /// a stride-2 one that takes oneDNN's path.
    static let cases: [(Int, Int, Int, Int, Int, Int, Bool)] = [
        (2, 40, 36, 32, 40, 1, false),
        (2, 40, 36, 32, 40, 1, true),
        (1, 13, 10, 32, 32, 1, false),   // partial tiles on both axes
        (2, 9, 8, 8, 16, 2, false),
        (2, 9, 8, 8, 16, 2, true),
    ]

    @Test("conv2d(…, adding:) equals conv2d(…) + addend, forward and every gradient", arguments: cases.indices)
    func fusedEqualsSeparate(_ index: Int) {
        let (n, h, w, c, k, stride, perSample) = Self.cases[index]
        let x = testTensor([n, h, w, c], seed: 71), weights = testTensor([k, 3, 3, c], seed: 72, lower: -0.3, upper: 0.3)
        let bias = testTensor([k], seed: 73)
        let outputShape = withoutGradients { Tensor.conv2d(x, weights: weights, stride: stride, padding: 1) }.shape
        let addend = testTensor(perSample ? [n, 1, 1, k] : outputShape, seed: 74, lower: -2, upper: 2)
        let probe = testTensor(outputShape, seed: 75)
        let fused: ([Tensor]) -> Tensor = { p in Tensor.conv2d(p[0], weights: p[1], bias: p[2], stride: stride, padding: 1, adding: p[3]) }
        let separate: ([Tensor]) -> Tensor = { p in Tensor.conv2d(p[0], weights: p[1], bias: p[2], stride: stride, padding: 1) + p[3] }
        let inputs = [x, weights, bias, addend]
        let a = withoutGradients { fused(inputs) }, b = withoutGradients { separate(inputs) }
        #expect(relativeError(a, b) < 1e-6, "forward: \(relativeError(a, b))")
        let ga = valueAndGradient(at: inputs) { p in (fused(p) * probe).sum() }.1
        let gb = valueAndGradient(at: inputs) { p in (separate(p) * probe).sum() }.1
        for (i, name) in ["x", "weights", "bias", "addend"].enumerated() {
            #expect(ga[i].shape == gb[i].shape && relativeError(ga[i], gb[i]) < 1e-5, "∂/∂\(name): \(relativeError(ga[i], gb[i]))")
        }
    }

    @Test("An addend of another shape is refused")
    func shapes() async {
        await #expect(processExitsWith: .failure) {
            let x = Tensor.zeros([1, 8, 8, 32]), weights = Tensor.zeros([32, 3, 3, 32])
            _ = Tensor.conv2d(x, weights: weights, padding: 1, adding: Tensor.zeros([1, 8, 1, 32]))
        }
    }
}
