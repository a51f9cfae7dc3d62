import Foundation
import SRTensor

/// DDPM ancestral sampling with x₀ clipping, as the reference's `p_sample_loop` (Ho et al. 2020;
/// SR3's posterior variance β̃ = β·(1−ᾱ_prev)/(1−ᾱ)), on any number of respaced steps.
///
/// At step i with ᾱ, ᾱ_prev (1 after the last step), β = 1 − ᾱ/ᾱ_prev:
/// x̂₀ = clip(√(1/ᾱ)·x − √(1/ᾱ − 1)·ε̂, −1, 1); mean = β√ᾱ_prev/(1−ᾱ)·x̂₀ + (1−ᾱ_prev)√(1−β)/(1−ᾱ)·x;
/// x ← mean + exp(½·log max(β̃, 1e−20))·z, with no noise at the last step.
/// Matches: `GaussianDiffusion.p_sample` of Janspiry's SR3 (commit 01d27a7) when every step is used;
/// coefficients in Double, applied in Float32.
public struct DDPMSampler: DiffusionSampler {
    public let schedule: RespacedSchedule
    public var clipsDenoised: Bool

    public init(schedule: NoiseSchedule, steps: Int, clipsDenoised: Bool = true) {
        self.schedule = RespacedSchedule(schedule, count: steps)
        self.clipsDenoised = clipsDenoised
    }

    public var stepCount: Int { schedule.timesteps.count }

    public func noiseLevel(at index: Int) -> Float { Float(schedule.alphasCumprod[index].squareRoot()) }

    public mutating func step(_ x: Tensor, predictedNoise: Tensor, at index: Int, noise: () -> Tensor) -> Tensor {
        let alphaBar = schedule.alphasCumprod[index], previous = schedule.previousAlphaCumprod(index)
        let beta = 1 - alphaBar / previous
        var x0 = Tensor.combination((1 / alphaBar).squareRoot(), x, -(1 / alphaBar - 1).squareRoot(), predictedNoise)
        if clipsDenoised { x0 = x0.clamped(lower: -1, upper: 1) }
        let mean = Tensor.combination(beta * previous.squareRoot() / (1 - alphaBar), x0,
                                      (1 - previous) * (1 - beta).squareRoot() / (1 - alphaBar), x)
        if index == stepCount - 1 { return mean }
        let variance = beta * (1 - previous) / (1 - alphaBar)
        let deviation = Foundation.exp(0.5 * Foundation.log(Swift.max(variance, 1e-20)))
        return mean + noise() * Float(deviation)
    }
}
