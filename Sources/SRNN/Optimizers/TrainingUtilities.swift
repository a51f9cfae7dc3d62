import Foundation
import SRTensor

/// Scales gradients so that their global L2 norm is at most `maxNorm` (PyTorch
/// `clip_grad_norm_`: coefficient maxNorm/(norm + 1e-6), applied only when below 1).
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [String: Tensor], maxNorm: Float) -> Float {
    var total = 0.0
    for gradient in gradients.values {
        gradient.withUnsafeBufferPointer { g in for v in g { total += Double(v) * Double(v) } }
    }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        for key in Array(gradients.keys) { gradients[key] = gradients[key]!.detached * coefficient }
    }
    return norm
}

/// An exponential moving average of a model's parameters: shadow ← decay·shadow + (1−decay)·θ.
public struct ExponentialMovingAverage: Sendable {
    public var decay: Float
    public internal(set) var shadow: [String: Tensor]

    /// Starts from the model's current parameters.
    public init(of model: Module, decay: Float = 0.9999) {
        self.decay = decay
        shadow = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.path, $0.parameter.value.detached) })
    }

    public init(shadow: [String: Tensor], decay: Float) {
        self.shadow = shadow
        self.decay = decay
    }

    /// Moves the average towards the model's current parameters. With `step` (the number of
    /// optimizer updates so far) the decay warms up as min(decay, (1 + step)/(10 + step)), so the
    /// average is not dominated by the initialization early in training. Frozen parameters are not
    /// averaged: their shadow is their value (averaging a constant only cost time on every step and
    /// moved it by float rounding, so an exported frozen prior was not bit-identical to the prior).
    public mutating func update(from model: Module, step: Int? = nil) {
        let decay = step.map { Swift.min(self.decay, Float(1 + $0) / Float(10 + $0)) } ?? self.decay
        withoutGradients {
            for (path, parameter) in model.namedParameters() {
                guard parameter.isTrainable, let old = shadow[path] else { shadow[path] = parameter.value.detached; continue }
                shadow[path] = old * decay + parameter.value.detached * (1 - decay)
            }
        }
    }
}

/// Learning-rate schedules as a function of the (1-based) step.
public enum LearningRateSchedule: Sendable, Codable, Equatable {
    /// The base rate throughout.
    case constant
    /// Linear warm-up from 0 over `warmupSteps`, then constant.
    case warmup(warmupSteps: Int)
    /// Linear warm-up, then cosine decay to `minimumFactor`·base at `totalSteps`.
    case cosine(warmupSteps: Int, totalSteps: Int, minimumFactor: Float)

    /// The learning rate at `step` for base rate `base`.
    public func rate(at step: Int, base: Float) -> Float {
        switch self {
        case .constant:
            return base
        case .warmup(let warmup):
            return warmup > 0 && step < warmup ? base * Float(step) / Float(warmup) : base
        case .cosine(let warmup, let total, let minimum):
            if warmup > 0 && step < warmup { return base * Float(step) / Float(warmup) }
            let progress = min(max(Float(step - warmup) / Float(max(total - warmup, 1)), 0), 1)
            return base * (minimum + (1 - minimum) * 0.5 * (1 + cos(Float.pi * progress)))
        }
    }
}
