import SRTensor

/// A fully connected layer, `y = x·Wᵀ + b`, as PyTorch's `nn.Linear`.
/// Parameters: `weight` `[out, in]`, `bias` `[out]`.
public final class Linear: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?

    /// PyTorch's default initialization: weight and bias uniform in ±1/√in.
    public init<G: RandomNumberGenerator>(inputFeatures: Int, outputFeatures: Int, bias: Bool = true, using generator: inout G) {
        weight = Parameter(Initializer.pytorchDefault([outputFeatures, inputFeatures], fanIn: inputFeatures, using: &generator))
        self.bias = bias ? Parameter(Initializer.pytorchDefault([outputFeatures], fanIn: inputFeatures, using: &generator)) : nil
    }

    /// - Parameter input: `[..., in]`. - Returns: `[..., out]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let y = Tensor.matmul(input, weight.value, transposeB: true)
        return bias.map { y + $0.value } ?? y
    }
}
