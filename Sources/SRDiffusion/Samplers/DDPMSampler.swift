import Foundation
import SRTensor

/// DDPM ancestral sampling (Ho et al. 2020) on any number of respaced steps: the reference's
/// `p_sample_loop` of SR3 (x₀ clipped) and of latent diffusion / StableSR (not clipped).
///
/// At step i with ᾱ, ᾱ_prev (1 after the last step), β = 1 − ᾱ/ᾱ_prev:
/// x̂₀ from the prediction (`PredictionType.denoised`), clipped to [−1, 1] when `clipsDenoised`;
/// mean = β√ᾱ_prev/(1−ᾱ)·x̂₀ + (1−ᾱ_prev)√(1−β)/(1−ᾱ)·x;
/// x ← mean + exp(½·log max(β̃, 1e−20))·z with β̃ = β·(1−ᾱ_prev)/(1−ᾱ), and no noise at the last step.
/// Matches: `GaussianDiffusion.p_sample` of Janspiry's SR3 (commit 01d27a7) when every step is used;
/// `LatentDiffusionSRTextWT.p_sample(_canvas)` of IceClear/StableSR 398ee93 with its respaced
/// schedule (`Respacing.spaceTimesteps`, `SchedulePrecision.float32`, no clipping). Coefficients in
/// Double (the reference: Float32 buffers, ≤ 1e-7 relative apart), applied in Float32.
/// Limitations: the reference draws (and masks) a noise tensor at the last step too; it is not drawn
/// here, which changes nothing for the image sampled.
public struct DDPMSampler: DiffusionSampler {
    public let schedule: RespacedSchedule
    public var clipsDenoised: Bool

    public init(schedule: NoiseSchedule, steps: Int, clipsDenoised: Bool = true, respacing: Respacing = .evenly,
                precision: SchedulePrecision = .double) {
        self.schedule = RespacedSchedule(schedule, count: steps, respacing: respacing, precision: precision)
        self.clipsDenoised = clipsDenoised
    }

    public mutating func step(_ x: Tensor, modelOutput: Tensor, prediction: PredictionType, at index: Int,
                              noise: () -> Tensor) -> SamplerStepResult {
        let alphaBar = schedule.alphasCumprod[index], previous = schedule.previousAlphaCumprod(index)
        let beta = 1 - alphaBar / previous
        var x0 = prediction.denoised(x, prediction: modelOutput, alphaCumprod: alphaBar)
        if clipsDenoised { x0 = x0.clamped(lower: -1, upper: 1) }
        let mean = Tensor.combination(beta * previous.squareRoot() / (1 - alphaBar), x0,
                                      (1 - previous) * (1 - beta).squareRoot() / (1 - alphaBar), x)
        if index == stepCount - 1 { return SamplerStepResult(sample: mean, denoised: x0) }
        let variance = beta * (1 - previous) / (1 - alphaBar)
        let deviation = Foundation.exp(0.5 * Foundation.log(Swift.max(variance, 1e-20)))
        return SamplerStepResult(sample: mean + noise() * Float(deviation), denoised: x0)
    }
}
