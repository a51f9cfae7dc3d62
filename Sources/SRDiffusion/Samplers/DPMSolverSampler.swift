import Foundation
import SRTensor

/// DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
/// Probabilistic Models", Algorithm 2), deterministic, in data (x₀) prediction with optional clipping.
///
/// With α = √ᾱ, σ = √(1−ᾱ), λ = log(α/σ) and h = λ_next − λ: the first step and the last (which
/// ends at σ = 0) are first order, x ← (σ_next/σ)·x − α_next·(e^{−h} − 1)·x̂₀; the others use
/// D = (1 + 1/(2r))·x̂₀ − 1/(2r)·x̂₀_prev with r = h_prev/h. The run ends on the clean x̂₀.
public struct DPMSolverSampler: DiffusionSampler {
    public let schedule: RespacedSchedule
    public var clipsDenoised: Bool
    private var previousPrediction: Tensor?
    private var previousStep: Double?

    public init(schedule: NoiseSchedule, steps: Int, clipsDenoised: Bool = true, respacing: Respacing = .evenly,
                precision: SchedulePrecision = .double) {
        self.schedule = RespacedSchedule(schedule, count: steps, respacing: respacing, precision: precision)
        self.clipsDenoised = clipsDenoised
    }

    static func lambda(_ alphaBar: Double) -> Double { 0.5 * Foundation.log(alphaBar / (1 - alphaBar)) }

    public mutating func step(_ x: Tensor, modelOutput: Tensor, prediction: PredictionType, at index: Int,
                              noise: () -> Tensor) -> SamplerStepResult {
        let alphaBar = schedule.alphasCumprod[index]
        var x0 = prediction.denoised(x, prediction: modelOutput, alphaCumprod: alphaBar)
        if clipsDenoised { x0 = x0.clamped(lower: -1, upper: 1) }
        defer { previousPrediction = x0 }
        return SamplerStepResult(sample: update(x, denoised: x0, at: index), denoised: x0)
    }

    private mutating func update(_ x: Tensor, denoised x0: Tensor, at index: Int) -> Tensor {
        let alphaBar = schedule.alphasCumprod[index]
        if index == stepCount - 1 { return x0 }   // σ_next = 0: the clean estimate
        let next = schedule.alphasCumprod[index + 1]
        let h = Self.lambda(next) - Self.lambda(alphaBar)
        let sigmaRatio = ((1 - next) / (1 - alphaBar)).squareRoot()
        let factor = -next.squareRoot() * (Foundation.exp(-h) - 1)
        defer { previousStep = h }
        guard let previous = previousPrediction, let hPrevious = previousStep else {
            return Tensor.combination(sigmaRatio, x, factor, x0)
        }
        let r = hPrevious / h
        let d = Tensor.combination(1 + 1 / (2 * r), x0, -1 / (2 * r), previous)
        return Tensor.combination(sigmaRatio, x, factor, d)
    }
}
