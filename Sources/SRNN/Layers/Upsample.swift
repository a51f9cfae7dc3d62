import SRTensor

/// Nearest-neighbour upsampling by an integer factor (no parameters), as `nn.Upsample(scale_factor:)`.
public final class Upsample: Module, @unchecked Sendable {
    public let factor: Int
    /// Upsampling by `factor` along H and W.
    public init(factor: Int = 2) { self.factor = factor }
    /// - Parameter input: `[N, H, W, C]`. - Returns: `[N, H·f, W·f, C]`.
    public func callAsFunction(_ input: Tensor) -> Tensor { input.upsampledNearest(factor: factor) }
}

/// Dropout (no parameters): active only in training mode.
public final class Dropout: Module, @unchecked Sendable {
    public let rate: Float
    /// Zeroes each element with probability `rate` in training mode (the rest scaled by 1/(1 − rate)).
    public init(rate: Float) { self.rate = rate }
    /// - Parameter input: any shape. - Returns: the same shape (the input itself in evaluation mode).
    public func callAsFunction<G: RandomNumberGenerator>(_ input: Tensor, using generator: inout G) -> Tensor {
        input.dropout(rate: rate, using: &generator)
    }
}
