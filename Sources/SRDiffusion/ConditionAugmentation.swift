import Foundation
import SRTensor

/// SR3+'s noise-conditioning augmentation (Sahak et al. 2023; the Cascaded Diffusion / Imagen
/// recipe): the condition is noised with the model's own schedule, c' = √ᾱ(τ)·c + √(1−ᾱ(τ))·ε, and
/// the network receives √ᾱ(τ) through a second embedding. τ ∈ [0, 1] is a fraction of the training
/// steps: ᾱ(τ) = ᾱ at step round(τ·(T−1)), and τ = 0 means no augmentation (√ᾱ = 1).
/// Design note (not from a reference implementation): the level fed to the network is √ᾱ(τ), the
/// same continuous quantity SR3 uses for the main noise level.
public enum ConditionAugmentation {
    /// √ᾱ(τ) for a fraction τ of the schedule.
    public static func level(fraction: Double, schedule: NoiseSchedule) -> Float {
        precondition((0...1).contains(fraction), "augmentation level must be in [0, 1], got \(fraction)")
        if fraction == 0 { return 1 }
        let index = Int((fraction * Double(schedule.stepCount - 1)).rounded())
        return Float(schedule.alphasCumprod[index].squareRoot())
    }

    /// The condition noised to `level` (= √ᾱ); unchanged at level 1.
    public static func apply(_ condition: Tensor, level: Float, generator: inout TorchGenerator,
                             order: Tensor.RandomFillOrder = .nchw) -> Tensor {
        if level >= 1 { return condition }
        let noise = Tensor.randomNormal(condition.shape, order: order, using: &generator)
        return condition.noised(level: level, noise: noise)
    }
}
