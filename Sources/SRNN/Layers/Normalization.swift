import SRTensor

/// Group normalization over NHWC, as PyTorch's `nn.GroupNorm` (affine: `weight` γ = 1, `bias` β = 0).
public final class GroupNorm: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter
    public let groups: Int
    public let epsilon: Float

    /// γ = 1, β = 0 (`[channels]` each), as PyTorch initializes them; `groups` divides `channels`.
    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        precondition(channels % groups == 0, "\(channels) channels do not split into \(groups) groups")
        weight = Parameter(Tensor.ones([channels]))
        bias = Parameter(Tensor.zeros([channels]))
        self.groups = groups
        self.epsilon = epsilon
    }

    /// - Parameter input: `[N, H, W, C]`.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.groupNormalized(groups: groups, scale: weight.value, offset: bias.value, epsilon: epsilon)
    }

    /// `self(input).silu()` fused into one pass (`Tensor.groupNormalizedSiLU`), forward and backward.
    /// - Parameter input: `[N, H, W, C]`.
    public func normalizedSiLU(_ input: Tensor) -> Tensor {
        input.groupNormalizedSiLU(groups: groups, scale: weight.value, offset: bias.value, epsilon: epsilon)
    }
}

/// Layer normalization over the last axis, as PyTorch's `nn.LayerNorm([C])`.
public final class LayerNorm: Module, @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter
    public let epsilon: Float

    /// γ = 1, β = 0 (`[features]` each), as PyTorch initializes them.
    public init(features: Int, epsilon: Float = 1e-5) {
        weight = Parameter(Tensor.ones([features]))
        bias = Parameter(Tensor.zeros([features]))
        self.epsilon = epsilon
    }

    /// - Parameter input: `[..., features]`. - Returns: the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        input.layerNormalized(scale: weight.value, offset: bias.value, epsilon: epsilon)
    }
}
