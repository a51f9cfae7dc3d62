import Foundation
import SRTensor

/// The sampling loop of SR3-style conditional models: start from Gaussian noise, evaluate the
/// network on [condition, x] at each step's noise level, let the sampler update x.
public enum DiffusionSampling {
    /// Progress after each step: (completed steps, total); return false to cancel.
    public typealias Progress = (_ completed: Int, _ total: Int) -> Bool

    /// Thrown when the progress closure cancels.
    public struct Cancelled: Error { public init() {} }

    /// Runs a sampler.
    /// - Parameters:
    ///   - condition: `[N, H, W, C]`, the bicubic-upsampled LR in [−1, 1].
    ///   - channels: channels of the generated image.
    ///   - model: the ε-prediction network: (input `[N, H, W, C + channels]` = [condition, x],
    ///     noise level `[N]`) → `[N, H, W, channels]`.
    ///   - generator: draws the initial noise and the sampler's noise.
    ///   - order: `.nchw` (default) draws in PyTorch's NCHW order, so a seed reproduces the
    ///     reference's random stream; `.natural` draws in NHWC order.
    /// - Returns: `[N, H, W, channels]` in [−1, 1] (not clipped).
    public static func run<S: DiffusionSampler>(
        condition: Tensor, channels: Int = 3, sampler: S, generator: inout TorchGenerator,
        order: Tensor.RandomFillOrder = .nchw, model: (Tensor, Tensor) -> Tensor, progress: Progress? = nil
    ) throws -> Tensor {
        var sampler = sampler
        let shape = [condition.shape[0], condition.shape[1], condition.shape[2], channels]
        var x = Tensor.randomNormal(shape, order: order, using: &generator)
        for index in 0..<sampler.stepCount {
            let level = Tensor(shape: [shape[0]], repeating: sampler.noiseLevel(at: index))
            let predicted = withoutGradients { model(Tensor.concatenate([condition, x], alongAxis: 3), level) }
            x = withoutGradients {
                sampler.step(x, predictedNoise: predicted, at: index) { Tensor.randomNormal(shape, order: order, using: &generator) }
            }
            if let progress, !progress(index + 1, sampler.stepCount) { throw Cancelled() }
        }
        return x
    }
}
