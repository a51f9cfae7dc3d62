import SRTensor

/// Nearest-neighbour upsampling by an integer factor (no parameters), as `nn.Upsample(scale_factor:)`.
public final class Upsample: Module, @unchecked Sendable {
    public let factor: Int
    public init(factor: Int = 2) { self.factor = factor }
    /// - Parameter input: `[N, H, W, C]`. - Returns: `[N, H·f, W·f, C]`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.upsampledNearest(factor: factor) }
}

/// Dropout (no parameters): active only in training mode.
public final class Dropout: Module, @unchecked Sendable {
    public let rate: Float
    public init(rate: Float) { self.rate = rate }
    public func callAsFunction<G: RandomNumberGenerator>(_ input: Tensor, using generator: inout G) -> Tensor {
        input.dropout(rate: rate, using: &generator)
    }
}
