import Foundation
import SRTensor

/// The sampling loop of SR3-style conditional models: start from Gaussian noise, evaluate the
/// network on [condition, x] at each step's noise level, let the sampler update x.
public enum DiffusionSampling {
    /// Progress after each step: (completed steps, total); return false to cancel.
    public typealias Progress = (_ completed: Int, _ total: Int) -> Bool

    /// Thrown when the progress closure cancels.
    public struct Cancelled: Error { public init() {} }

    /// Where sampling starts.
    public enum Start: String, Sendable, Codable, CaseIterable {
        /// Pure Gaussian noise, as the reference's `p_sample_loop`.
        case noise
        /// The condition noised to the first step's level: x = √ᾱ·c + √(1 − ᾱ)·ε, the marginal
        /// q(x_T | x₀ ≈ c). For schedules that keep signal at their last step (√ᾱ_T ≫ 0), where a
        /// pure-noise start is a train/test mismatch that pulls the result toward gray (Lin et al.
        /// 2024, "Common Diffusion Noise Schedules and Sample Steps Are Flawed").
        case noisedCondition = "condition"
    }

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
        order: Tensor.RandomFillOrder = .nchw, start: Start = .noise, model: (Tensor, Tensor) -> Tensor, progress: Progress? = nil
    ) throws -> Tensor {
        try withoutActuallyEscaping({ (shape: [Int]) in Tensor.randomNormal(shape, order: order, using: &generator) }) { draw in
            try loop(condition: condition, channels: channels, sampler: sampler, draw: draw, start: start, model: model, progress: progress)
        }
    }

    /// Runs a sampler on a batch whose images each have their own generator: image i's noise is
    /// drawn from `generators[i]` alone, so each image gets exactly what it would get sampled on its
    /// own with that generator (batching changes only the speed, up to float rounding).
    /// - Precondition: `generators.count == condition.shape[0]`.
    public static func run<S: DiffusionSampler>(
        condition: Tensor, channels: Int = 3, sampler: S, generators: inout [TorchGenerator],
        order: Tensor.RandomFillOrder = .nchw, start: Start = .noise, model: (Tensor, Tensor) -> Tensor, progress: Progress? = nil
    ) throws -> Tensor {
        precondition(generators.count == condition.shape[0], "one generator per image: \(generators.count) for \(condition.shape[0])")
        return try withoutActuallyEscaping({ (shape: [Int]) -> Tensor in
            Tensor.concatenate(generators.indices.map { i in
                Tensor.randomNormal([1] + shape.dropFirst(), order: order, using: &generators[i])
            }, alongAxis: 0)
        }) { draw in
            try loop(condition: condition, channels: channels, sampler: sampler, draw: draw, start: start, model: model, progress: progress)
        }
    }

    static func loop<S: DiffusionSampler>(condition: Tensor, channels: Int, sampler: S, draw: ([Int]) -> Tensor, start: Start,
                                          model: (Tensor, Tensor) -> Tensor, progress: Progress?) throws -> Tensor {
        var sampler = sampler
        let shape = [condition.shape[0], condition.shape[1], condition.shape[2], channels]
        var x = draw(shape)
        if start == .noisedCondition {
            precondition(condition.shape[3] >= channels, "a condition start needs \(channels) condition channels")
            let level = sampler.noiseLevel(at: 0)
            let signal = condition.shape[3] == channels ? condition : condition.sliced(alongAxis: 3, from: 0, count: channels)
            x = withoutGradients { signal.noised(level: level, noise: x) }
        }
        for index in 0..<sampler.stepCount {
            let level = Tensor(shape: [shape[0]], repeating: sampler.noiseLevel(at: index))
            let predicted = withoutGradients { model(Tensor.concatenate([condition, x], alongAxis: 3), level) }
            x = withoutGradients { sampler.step(x, predictedNoise: predicted, at: index) { draw(shape) } }
            if let progress, !progress(index + 1, sampler.stepCount) { throw Cancelled() }
        }
        return x
    }
}
