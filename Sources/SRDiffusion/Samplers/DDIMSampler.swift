import Foundation
import SRTensor

/// DDIM (Song et al. 2021) on respaced steps, with optional x₀ clipping and stochasticity η
/// (η = 0: deterministic; η = 1: DDPM-like variance).
///
/// x̂₀ from the prediction (clipped when `clipsDenoised`); ε' = (x − √ᾱ·x̂₀)/√(1−ᾱ) (the noise
/// consistent with x̂₀, as diffusers' `DDIMScheduler`; the ε prediction itself when nothing was
/// clipped); σ = η·√((1−ᾱ_prev)/(1−ᾱ))·√(1−ᾱ/ᾱ_prev); x ← √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε' + σ·z.
public struct DDIMSampler: DiffusionSampler {
    public let schedule: RespacedSchedule
    public var eta: Double
    public var clipsDenoised: Bool

    public init(schedule: NoiseSchedule, steps: Int, eta: Double = 0, clipsDenoised: Bool = true, respacing: Respacing = .evenly,
                precision: SchedulePrecision = .double) {
        precondition(eta >= 0, "eta must be non-negative")
        self.schedule = RespacedSchedule(schedule, count: steps, respacing: respacing, precision: precision)
        self.eta = eta
        self.clipsDenoised = clipsDenoised
    }

    public mutating func step(_ x: Tensor, modelOutput: Tensor, prediction: PredictionType, at index: Int,
                              noise: () -> Tensor) -> SamplerStepResult {
        let alphaBar = schedule.alphasCumprod[index], previous = schedule.previousAlphaCumprod(index)
        var x0 = prediction.denoised(x, prediction: modelOutput, alphaCumprod: alphaBar)
        var epsilon: Tensor
        if clipsDenoised {
            x0 = x0.clamped(lower: -1, upper: 1)
            epsilon = PredictionType.noise(x, denoised: x0, alphaCumprod: alphaBar)
        } else {
            epsilon = prediction == .epsilon ? modelOutput : PredictionType.noise(x, denoised: x0, alphaCumprod: alphaBar)
        }
        let sigma = eta * ((1 - previous) / (1 - alphaBar)).squareRoot() * (1 - alphaBar / previous).squareRoot()
        var next = Tensor.combination(previous.squareRoot(), x0, Swift.max(1 - previous - sigma * sigma, 0).squareRoot(), epsilon)
        if sigma > 0 && index < stepCount - 1 { next = next + noise() * Float(sigma) }
        return SamplerStepResult(sample: next, denoised: x0)
    }
}
