import SRTensor

/// A 2-D convolution on NHWC activations, as PyTorch's `nn.Conv2d` (zero padding).
/// Parameters: `weight` `[out, kh, kw, in]` (OHWI; PyTorch's OIHW is converted at import),
/// `bias` `[out]`.
public final class Conv2D: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Int

    /// A square `kernelSize` kernel, the same `stride` and zero `padding` on both axes; PyTorch's
    /// default initialization (uniform in ±1/√(in·k²)).
    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
                                          padding: Int = 0, bias: Bool = true, using generator: inout G) {
        let fanIn = inputChannels * kernelSize * kernelSize
        weight = Parameter(Initializer.pytorchDefault([outputChannels, kernelSize, kernelSize, inputChannels], fanIn: fanIn, using: &generator))
        self.bias = bias ? Parameter(Initializer.pytorchDefault([outputChannels], fanIn: fanIn, using: &generator)) : nil
        self.stride = stride
        self.padding = padding
    }

    /// - Parameter input: `[N, H, W, in]`. - Returns: `[N, H', W', out]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        Tensor.conv2d(input, weights: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }

    /// `self(input) + addend`, the addition fused into the convolution where it can be
    /// (`Tensor.conv2d(…, adding:)`).
    /// - Parameters:
    ///   - input: `[N, H, W, in]`.
    ///   - addend: `[N, H', W', out]` (a residual) or `[N, 1, 1, out]` (a per-sample shift).
    public func callAsFunction(_ input: Tensor, adding addend: Tensor) -> Tensor {
        Tensor.conv2d(input, weights: weight.value, bias: bias?.value, stride: stride, padding: padding, adding: addend)
    }
}
