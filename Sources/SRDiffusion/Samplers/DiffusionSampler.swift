import Foundation
import SRTensor

/// The samplers a pipeline offers, by name (`--sampler`).
public enum SamplerKind: String, Sendable, CaseIterable, Codable {
    /// Ancestral DDPM (`DDPMSampler`).
    case ddpm
    /// DDIM with η (`DDIMSampler`).
    case ddim
    /// DPM-Solver++(2M) (`DPMSolverSampler`).
    case dpmSolverPlusPlus = "dpm-solver++"
}

/// The result of one sampler step.
public struct SamplerStepResult {
    /// The next, less noisy sample x_{t−1}.
    public var sample: Tensor
    /// The clean estimate x̂₀ the step used (after clipping, when the sampler clips).
    public var denoised: Tensor
}

/// An iterative-refinement sampler over a respaced schedule. A sampler is a value: multistep
/// history is part of its state.
///
/// The loop (see `DiffusionSampling`) evaluates the network at step i = 0 … stepCount−1 (noisiest
/// first) — telling it `timestep(at: i)` (integer-timestep networks) or `noiseLevel(at: i)` = √ᾱ
/// (SR3's continuous level) — and passes its output to `step`.
public protocol DiffusionSampler: Sendable {
    /// The timesteps and ᾱ of the run.
    var schedule: RespacedSchedule { get }
    /// The next sample from the network's output at step `index`. `noise` draws a standard-normal
    /// tensor shaped like `x`; it is called only when the update is stochastic (so random streams
    /// stay in step with a reference).
    mutating func step(_ x: Tensor, modelOutput: Tensor, prediction: PredictionType, at index: Int,
                       noise: () -> Tensor) -> SamplerStepResult
}

extension DiffusionSampler {
    /// Network evaluations in one run.
    public var stepCount: Int { schedule.timesteps.count }
    /// The training-schedule timestep of step `index`.
    public func timestep(at index: Int) -> Int { schedule.timesteps[index] }
    /// ᾱ of step `index`.
    public func alphaCumprod(at index: Int) -> Double { schedule.alphasCumprod[index] }
    /// √ᾱ of step `index`, the continuous noise level SR3 networks take.
    public func noiseLevel(at index: Int) -> Float { Float(schedule.alphasCumprod[index].squareRoot()) }

    /// The next sample for an ε prediction.
    public mutating func step(_ x: Tensor, predictedNoise: Tensor, at index: Int, noise: () -> Tensor) -> Tensor {
        step(x, modelOutput: predictedNoise, prediction: .epsilon, at: index, noise: noise).sample
    }
}
