import Foundation
import SRTensor

/// DDIM (Song et al. 2021) on respaced steps, with x₀ clipping and stochasticity η
/// (η = 0: deterministic; η = 1: DDPM-like variance).
///
/// x̂₀ = clip(√(1/ᾱ)·x − √(1/ᾱ − 1)·ε̂); ε' = (x − √ᾱ·x̂₀)/√(1−ᾱ) (the noise consistent with the
/// clipped x̂₀, as diffusers' `DDIMScheduler` with clipping);
/// σ = η·√((1−ᾱ_prev)/(1−ᾱ))·√(1−ᾱ/ᾱ_prev); x ← √ᾱ_prev·x̂₀ + √(1−ᾱ_prev−σ²)·ε' + σ·z.
public struct DDIMSampler: DiffusionSampler {
    public let schedule: RespacedSchedule
    public var eta: Double
    public var clipsDenoised: Bool

    public init(schedule: NoiseSchedule, steps: Int, eta: Double = 0, clipsDenoised: Bool = true) {
        precondition(eta >= 0, "eta must be non-negative")
        self.schedule = RespacedSchedule(schedule, count: steps)
        self.eta = eta
        self.clipsDenoised = clipsDenoised
    }

    public var stepCount: Int { schedule.timesteps.count }

    public func noiseLevel(at index: Int) -> Float { Float(schedule.alphasCumprod[index].squareRoot()) }

    public mutating func step(_ x: Tensor, predictedNoise: Tensor, at index: Int, noise: () -> Tensor) -> Tensor {
        let alphaBar = schedule.alphasCumprod[index], previous = schedule.previousAlphaCumprod(index)
        var x0 = Tensor.combination((1 / alphaBar).squareRoot(), x, -(1 / alphaBar - 1).squareRoot(), predictedNoise)
        var epsilon = predictedNoise
        if clipsDenoised {
            x0 = x0.clamped(lower: -1, upper: 1)
            epsilon = Tensor.combination(1 / (1 - alphaBar).squareRoot(), x, -(alphaBar / (1 - alphaBar)).squareRoot(), x0)
        }
        let sigma = eta * ((1 - previous) / (1 - alphaBar)).squareRoot() * (1 - alphaBar / previous).squareRoot()
        var next = Tensor.combination(previous.squareRoot(), x0, Swift.max(1 - previous - sigma * sigma, 0).squareRoot(), epsilon)
        if sigma > 0 && index < stepCount - 1 { next = next + noise() * Float(sigma) }
        return next
    }
}
