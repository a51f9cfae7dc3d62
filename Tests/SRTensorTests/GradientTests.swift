import Testing
import SRTensor
import _TestSupport

/// Reverse-mode gradients against central finite differences, one test per operation.
@Suite("Gradients: finite differences")
struct GradientTests {
    static let tolerance = 3e-3

    func expectGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, _ f: @escaping ([Tensor]) -> Tensor,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let result = checkGradients(inputs, epsilon: epsilon, f)
        #expect(result.worstError < Self.tolerance, "\(result)", sourceLocation: sourceLocation)
    }

    @Test func arithmeticWithBroadcasting() {
        let a = testTensor([2, 3, 4], seed: 1), b = testTensor([3, 1], seed: 2), c = testTensor([4], seed: 3)
        expectGradients([a, b, c]) { x in x[0] * x[1] + x[2] - x[0] / (x[1].squared() + 2) }
        expectGradients([a, testTensor([1, 3, 4], seed: 5)]) { x in x[0] - x[1] * 3 }
    }

    @Test func unaryFunctions() {
        let x = testTensor([3, 5], seed: 7)
        let positive = testTensor([3, 5], seed: 8, lower: 0.5, upper: 2)
        expectGradients([x]) { $0[0].exp() + $0[0].tanh() + $0[0].sigmoid() + $0[0].silu() + $0[0].gelu() }
        expectGradients([positive]) { $0[0].log() + $0[0].sqrt() + $0[0].rsqrt() }
        expectGradients([x], epsilon: 1e-3) { $0[0].relu() + $0[0].abs() + $0[0].clamped(lower: -0.5, upper: 0.4) + $0[0].leakyReLU(negativeSlope: 0.2) }
        expectGradients([x, testTensor([3, 5], seed: 9)], epsilon: 1e-3) { Tensor.maximum($0[0], $0[1]) }
    }

    @Test func reductions() {
        let x = testTensor([2, 3, 4, 5], seed: 11)
        expectGradients([x]) { $0[0].sum(alongAxes: [1, 3]) }
        expectGradients([x]) { $0[0].mean(alongAxes: [0, 2], keepingDimensions: true) }
        expectGradients([x]) { $0[0].variance(alongAxes: [1, 2]) }
        expectGradients([x], epsilon: 1e-3) { $0[0].max(alongAxes: [3]) + $0[0].max(alongAxes: [0, 2]).sum() }
    }

    @Test func shapeOperations() {
        let x = testTensor([2, 3, 4, 2], seed: 13), y = testTensor([2, 3, 1, 2], seed: 14)
        expectGradients([x]) { $0[0].permuted([3, 1, 0, 2]).reshaped(to: [2, -1]) }
        expectGradients([x, y]) { Tensor.concatenate([$0[0], $0[1], $0[0]], alongAxis: 2) }
        expectGradients([x]) { $0[0].sliced(alongAxis: 1, from: 1, count: 2) }
        expectGradients([x]) { $0[0].padded(top: 1, bottom: 2, left: 0, right: 1) }
        expectGradients([x]) { $0[0].padded(top: 2, bottom: 1, left: 1, right: 1, mode: .reflect) }
    }

    @Test func matrixProducts() {
        let a = testTensor([2, 3, 4], seed: 21), b = testTensor([2, 4, 5], seed: 22), w = testTensor([4, 5], seed: 23)
        expectGradients([a, b]) { Tensor.matmul($0[0], $0[1]) }
        expectGradients([a, w]) { Tensor.matmul($0[0], $0[1]) }
        expectGradients([a, testTensor([5, 4], seed: 24)]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
        expectGradients([testTensor([2, 4, 3], seed: 25), b]) { Tensor.matmul($0[0], $0[1], transposeA: true) }
        expectGradients([testTensor([3, 4], seed: 26), b]) { Tensor.matmul($0[0], $0[1]) }
    }

    @Test("conv2d: kernels 1 and 3, stride 1 and 2, padding, bias", arguments: [(1, 1, 0), (3, 1, 1), (3, 2, 1), (3, 2, 0)])
    func convolution(kernel: Int, stride: Int, padding: Int) {
        let x = testTensor([2, 6, 5, 3], seed: 31), w = testTensor([4, kernel, kernel, 3], seed: 32), b = testTensor([4], seed: 33)
        expectGradients([x, w, b]) { Tensor.conv2d($0[0], weights: $0[1], bias: $0[2], stride: stride, padding: padding) }
        expectGradients([x, w]) { Tensor.conv2d($0[0], weights: $0[1], stride: stride, padding: padding) }
    }
}

extension Tensor {
    /// ±1 by sign (test helper).
    func mapSign() -> Tensor { Tensor(shape: shape, values: scalars.map { $0 >= 0 ? 1 : -1 }) }
}

@Suite("Gradients: layers")
struct LayerGradientTests {
    func expectGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, _ f: @escaping ([Tensor]) -> Tensor,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        let result = checkGradients(inputs, epsilon: epsilon, f)
        #expect(result.worstError < GradientTests.tolerance, "\(result)", sourceLocation: sourceLocation)
    }

    @Test func groupNorm() {
        let x = testTensor([2, 3, 4, 6], seed: 41, lower: -2, upper: 3)
        let gamma = testTensor([6], seed: 42, lower: 0.5, upper: 1.5), beta = testTensor([6], seed: 43)
        expectGradients([x, gamma, beta], epsilon: 5e-3) { $0[0].groupNormalized(groups: 3, scale: $0[1], offset: $0[2]) }
        expectGradients([x, gamma, beta], epsilon: 5e-3) { $0[0].groupNormalized(groups: 1, scale: $0[1], offset: $0[2]) }
    }

    @Test("GroupNorm → SiLU fused: 6 channels (scalar loop) and 16 (8-lane loop)")
    func groupNormSiLU() {
        let x = testTensor([2, 3, 4, 6], seed: 47, lower: -2, upper: 3)
        let gamma = testTensor([6], seed: 48, lower: 0.5, upper: 1.5), beta = testTensor([6], seed: 49)
        expectGradients([x, gamma, beta], epsilon: 5e-3) { $0[0].groupNormalizedSiLU(groups: 3, scale: $0[1], offset: $0[2]) }
        let wide = testTensor([2, 3, 2, 16], seed: 50, lower: -2, upper: 3)
        let gamma16 = testTensor([16], seed: 51, lower: 0.5, upper: 1.5), beta16 = testTensor([16], seed: 52)
        expectGradients([wide, gamma16, beta16], epsilon: 5e-3) { $0[0].groupNormalizedSiLU(groups: 4, scale: $0[1], offset: $0[2]) }
    }

    @Test func layerNorm() {
        let x = testTensor([3, 4, 5], seed: 44), gamma = testTensor([5], seed: 45), beta = testTensor([5], seed: 46)
        expectGradients([x, gamma, beta], epsilon: 5e-3) { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) }
    }

    @Test func softmaxAndAttention() {
        expectGradients([testTensor([3, 7], seed: 47, lower: -3, upper: 3)]) { $0[0].softmax() }
        let q = testTensor([2, 5, 8], seed: 48), k = testTensor([2, 3, 8], seed: 49), v = testTensor([2, 3, 4], seed: 50)
        expectGradients([q, k, v]) { Tensor.attention(query: $0[0], key: $0[1], value: $0[2], heads: 2) }
        expectGradients([q]) { Tensor.attention(query: $0[0], key: $0[0], value: $0[0]) }
    }

    @Test func resampling() {
        let x = testTensor([2, 4, 6, 3], seed: 51)
        expectGradients([x]) { $0[0].upsampledNearest(factor: 2) }
        expectGradients([x]) { $0[0].resizedBilinear(height: 7, width: 5) }
        expectGradients([x]) { $0[0].averagePooled(kernel: 2) }
    }

    @Test func losses() {
        let a = testTensor([4, 5], seed: 52), b = testTensor([4, 5], seed: 53)
        expectGradients([a, b]) { Tensor.mseLoss($0[0], $0[1]) }
        // Differences kept away from 0, where L1 has its kink.
        let apart = a + testTensor([4, 5], seed: 54, lower: 0.2, upper: 0.6) * (testTensor([4, 5], seed: 55).mapSign())
        expectGradients([apart, a], epsilon: 1e-3) { Tensor.l1Loss($0[0], $0[1]) + Tensor.charbonnierLoss($0[0], $0[1]) }
    }
}
