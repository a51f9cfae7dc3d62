import Foundation
import SRTensor

/// The sampling loop: from a start x_T, evaluate the denoiser at each step and let the sampler
/// update x. Generic over the network (`Denoiser`); `run(condition:…)` is SR3's form of it.
public enum DiffusionSampling {
    /// Progress after each step: (completed steps, total); return false to cancel.
    public typealias Progress = (_ completed: Int, _ total: Int) -> Bool

    /// Thrown when the progress closure cancels.
    public struct Cancelled: Error { public init() {} }

    /// Where sampling starts.
    public enum Start: String, Sendable, Codable, CaseIterable {
        /// Pure Gaussian noise, as SR3's `p_sample_loop` (and StableSR's 512 script).
        case noise
        /// The condition noised to the first step's level: x = √ᾱ·c + √(1 − ᾱ)·ε, the marginal
        /// q(x_T | x₀ ≈ c). For schedules that keep signal at their last step (√ᾱ_T ≫ 0), where a
        /// pure-noise start is a train/test mismatch that pulls the result toward gray (Lin et al.
        /// 2024, "Common Diffusion Noise Schedules and Sample Steps Are Flawed"). StableSR's tile
        /// script starts this way, at the training schedule's last step.
        case noisedCondition = "condition"
    }

    /// Runs `sampler` from `initial` with a denoiser that receives the whole sample at each step.
    /// - Parameters:
    ///   - initial: x_T, `[N, H, W, C]`.
    ///   - prediction: what the denoiser's output is.
    ///   - draw: a standard-normal tensor of a shape (the sampler's noise).
    ///   - denoiser: the network at a step (wrap it in a `TiledDenoiser` to bound memory).
    /// - Returns: x₀, `[N, H, W, C]` (not clipped).
    public static func sample<S: DiffusionSampler>(from initial: Tensor, sampler: S, prediction: PredictionType = .epsilon,
                                                   draw: ([Int]) -> Tensor, denoiser: Denoiser, progress: Progress? = nil) throws -> Tensor {
        var sampler = sampler
        var x = initial
        let whole = DenoisingStep.Region(y: 0, x: 0, height: x.shape[1], width: x.shape[2])
        for index in 0..<sampler.stepCount {
            let step = DenoisingStep(index: index, stepCount: sampler.stepCount, timestep: sampler.timestep(at: index),
                                     alphaCumprod: sampler.alphaCumprod(at: index), region: whole)
            let output = withoutGradients { denoiser(x, step) }
            let shape = x.shape
            x = withoutGradients { sampler.step(x, modelOutput: output, prediction: prediction, at: index) { draw(shape) }.sample }
            if let progress, !progress(index + 1, sampler.stepCount) { throw Cancelled() }
        }
        return x
    }

    /// SR3's loop: starts from Gaussian noise (or the noised condition), evaluates the network on
    /// [condition, x] at each step's noise level √ᾱ.
    /// - Parameters:
    ///   - condition: `[N, H, W, C]`, the bicubic-upsampled LR in [−1, 1].
    ///   - channels: channels of the generated image.
    ///   - prediction: what the network predicts (ε or x₀).
    ///   - model: the network: (input `[N, h, w, C + channels]` = [condition, x] of a region, noise
    ///     level `[N]`) → `[N, h, w, channels]`.
    ///   - tile: evaluates the network on Gaussian-blended tiles (nil: the whole image).
    ///   - generator: draws the initial noise and the sampler's noise.
    ///   - order: `.nchw` (default) draws in PyTorch's NCHW order, so a seed reproduces the
    ///     reference's random stream; `.natural` draws in NHWC order.
    /// - Returns: `[N, H, W, channels]` in [−1, 1] (not clipped).
    public static func run<S: DiffusionSampler>(
        condition: Tensor, channels: Int = 3, sampler: S, prediction: PredictionType = .epsilon, generator: inout TorchGenerator,
        order: Tensor.RandomFillOrder = .nchw, start: Start = .noise, tile: TiledDenoiser? = nil,
        model: (Tensor, Tensor) -> Tensor, progress: Progress? = nil
    ) throws -> Tensor {
        try withoutActuallyEscaping({ (shape: [Int]) in Tensor.randomNormal(shape, order: order, using: &generator) }) { draw in
            try conditioned(condition: condition, channels: channels, sampler: sampler, prediction: prediction, draw: draw, start: start,
                            tile: tile, model: model, progress: progress)
        }
    }

    /// SR3's loop on a batch whose images each have their own generator: image i's noise is drawn
    /// from `generators[i]` alone, so each image gets exactly what it would get sampled on its own
    /// with that generator (batching changes only the speed, up to float rounding).
    /// - Precondition: `generators.count == condition.shape[0]`.
    public static func run<S: DiffusionSampler>(
        condition: Tensor, channels: Int = 3, sampler: S, prediction: PredictionType = .epsilon, generators: inout [TorchGenerator],
        order: Tensor.RandomFillOrder = .nchw, start: Start = .noise, tile: TiledDenoiser? = nil,
        model: (Tensor, Tensor) -> Tensor, progress: Progress? = nil
    ) throws -> Tensor {
        precondition(generators.count == condition.shape[0], "one generator per image: \(generators.count) for \(condition.shape[0])")
        return try withoutActuallyEscaping({ (shape: [Int]) -> Tensor in
            Tensor.batchedRandomNormal([1] + shape.dropFirst(), generators: &generators, order: order)
        }) { draw in
            try conditioned(condition: condition, channels: channels, sampler: sampler, prediction: prediction, draw: draw, start: start,
                            tile: tile, model: model, progress: progress)
        }
    }

    static func conditioned<S: DiffusionSampler>(condition: Tensor, channels: Int, sampler: S, prediction: PredictionType,
                                                 draw: ([Int]) -> Tensor, start: Start,
                                                 tile: TiledDenoiser?, model: (Tensor, Tensor) -> Tensor, progress: Progress?) throws -> Tensor {
        let shape = [condition.shape[0], condition.shape[1], condition.shape[2], channels]
        var x = draw(shape)
        if start == .noisedCondition {
            precondition(condition.shape[3] >= channels, "a condition start needs \(channels) condition channels")
            let level = sampler.noiseLevel(at: 0)
            let signal = condition.shape[3] == channels ? condition : condition.sliced(alongAxis: 3, from: 0, count: channels)
            x = withoutGradients { signal.noised(level: level, noise: x) }
        }
        func network(_ x: Tensor, _ step: DenoisingStep) -> Tensor {
            model(Tensor.concatenate([condition.cropped(to: step.region), x], alongAxis: 3),
                  Tensor(shape: [x.shape[0]], repeating: step.noiseLevel))
        }
        return try sample(from: x, sampler: sampler, prediction: prediction, draw: draw, denoiser: { x, step in
            guard let tile else { return network(x, step) }
            return tile(x, step: step, denoiser: network)
        }, progress: progress)
    }
}

extension Tensor {
    /// A batch of standard-normal tensors, image i drawn from `generators[i]` alone.
    /// - Parameter shape: one image's shape, `[1, …]`.
    public static func batchedRandomNormal(_ shape: [Int], generators: inout [TorchGenerator], order: RandomFillOrder) -> Tensor {
        Tensor.concatenate(generators.indices.map { i in Tensor.randomNormal(shape, order: order, using: &generators[i]) }, alongAxis: 0)
    }
}
