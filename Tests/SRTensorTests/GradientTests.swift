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
        expectGradients([x], epsilon: 1e-3) { $0[0].relu() + $0[0].abs() + $0[0].clamped(lower: -0.5, upper: 0.4) }
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
