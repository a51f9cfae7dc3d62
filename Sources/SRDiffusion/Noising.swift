import SRTensor

extension Tensor {
    /// The diffusion forward process at the continuous noise level √γ = `level`:
    /// √γ·self + √(1 − γ)·noise (SR3's q(y_γ | y₀); also SR3+'s condition augmentation).
    /// - Parameter level: `[N, 1, 1, 1]`, one level per image of an NHWC batch (or any shape that
    ///   broadcasts against `self`).
    public func noised(level: Tensor, noise: Tensor) -> Tensor {
        self * level + noise * (1 - level * level).sqrt()
    }

    /// The same at one level for the whole tensor.
    public func noised(level: Float, noise: Tensor) -> Tensor {
        self * level + noise * (1 - level * level).squareRoot()
    }
}
