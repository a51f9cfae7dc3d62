import Foundation
import SRTensor

/// What a denoising network predicts from x_t = √ᾱ·x₀ + √(1−ᾱ)·ε, and the one place where a
/// prediction is turned into the clean estimate x̂₀ and the noise estimate ε̂.
public enum PredictionType: String, Sendable, Codable, CaseIterable {
    /// ε, the noise (SR3, StableSR's 512 model).
    case epsilon = "eps"
    /// x₀, the clean sample (SR3 models trained with `"prediction": "x0"`).
    case sample = "x0"
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho 2022; StableSR's 768v model).
    case velocity = "v"

    /// x̂₀ from a prediction at ᾱ: ε: √(1/ᾱ)·x − √(1/ᾱ − 1)·ε̂ (the reference's
    /// `predict_start_from_noise`); x₀: the prediction; v: √ᾱ·x − √(1−ᾱ)·v̂ (`predict_start_from_z_and_v`).
    /// Coefficients in Double, applied in Float32.
    public func denoised(_ x: Tensor, prediction: Tensor, alphaCumprod a: Double) -> Tensor {
        switch self {
        case .epsilon: return Tensor.combination((1 / a).squareRoot(), x, -(1 / a - 1).squareRoot(), prediction)
        case .sample: return prediction
        case .velocity: return Tensor.combination(a.squareRoot(), x, -(1 - a).squareRoot(), prediction)
        }
    }

    /// ε̂ consistent with x and a clean estimate x̂₀ at ᾱ: (x − √ᾱ·x̂₀)/√(1−ᾱ).
    public static func noise(_ x: Tensor, denoised: Tensor, alphaCumprod a: Double) -> Tensor {
        Tensor.combination(1 / (1 - a).squareRoot(), x, -(a / (1 - a)).squareRoot(), denoised)
    }
}

extension Tensor {
    /// a·x + b·y for scalars (no gradient recording needed by samplers).
    static func combination(_ a: Double, _ x: Tensor, _ b: Double, _ y: Tensor) -> Tensor {
        x * Float(a) + y * Float(b)
    }
}
