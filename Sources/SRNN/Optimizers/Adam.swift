import Foundation
import SRSupport
import SRTensor

/// Adam and AdamW with PyTorch's semantics (`torch.optim.Adam`/`AdamW`, `amsgrad=False`,
/// `maximize=False`, `foreach`/`fused` give the same values):
///
/// - Adam: g ← g + λ·θ (L2 penalty in the gradient).
/// - AdamW: θ ← θ·(1 − lr·λ) (decoupled decay), before the update.
/// - m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − (lr/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
///
/// State (moments and step) is kept per parameter path, so it can be saved and restored.
public struct Adam: Sendable {
    public enum WeightDecayMode: String, Sendable, Codable { case l2, decoupled }

    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var decayMode: WeightDecayMode
    /// Number of updates done (t).
    public internal(set) var step = 0
    /// First and second moments per parameter path.
    public internal(set) var firstMoments: [String: Tensor] = [:]
    public internal(set) var secondMoments: [String: Tensor] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decayMode: WeightDecayMode = .l2) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decayMode = decayMode
    }

    /// AdamW (decoupled weight decay, PyTorch default λ = 0.01).
    public static func adamW(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                             weightDecay: Float = 0.01) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, decayMode: .decoupled)
    }

    /// Restores saved state.
    public mutating func restore(step: Int, firstMoments: [String: Tensor], secondMoments: [String: Tensor]) {
        self.step = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }

    /// One update of every parameter of `model` that has a gradient.
    public mutating func update(_ model: Module, gradients: [String: Tensor]) {
        step += 1
        let t = Float(step)
        let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
        let stepSize = learningRate / correction1
        let correction2Root = correction2.squareRoot()
        for (path, parameter) in model.namedParameters() {
            guard let gradient = gradients[path] else { continue }
            precondition(gradient.shape == parameter.shape, "gradient \(gradient.shape) for \(path) \(parameter.shape)")
            // Taken out of the dictionaries so that the updates below own them (no copy-on-write).
            var m = firstMoments.removeValue(forKey: path) ?? Tensor.zeros(parameter.shape)
            var v = secondMoments.removeValue(forKey: path) ?? Tensor.zeros(parameter.shape)
            var theta = parameter.value.detached
            let (b1, b2, eps, lr, wd, decoupled) = (beta1, beta2, epsilon, learningRate, weightDecay, decayMode == .decoupled)
            gradient.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        theta.withUnsafeMutableBufferPointer { p in
                            // Elementwise, so split across the threads (the same results).
                            parallelChunks(p.count) { range in
                                for i in range {
                                    var gi = g[i]
                                    if wd != 0 {
                                        if decoupled { p[i] *= 1 - lr * wd } else { gi += wd * p[i] }
                                    }
                                    mp[i] = b1 * mp[i] + (1 - b1) * gi
                                    vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                                    let denominator = vp[i].squareRoot() / correction2Root + eps
                                    p[i] -= stepSize * mp[i] / denominator
                                }
                            }
                        }
                    }
                }
            }
            firstMoments[path] = m
            secondMoments[path] = v
            parameter.value = theta
        }
    }
}
