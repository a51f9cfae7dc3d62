import Foundation

extension Tensor {
    /// Mean absolute error, `mean(|a − b|)` (PyTorch `l1_loss`, reduction 'mean').
    public static func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).abs().mean() }

    /// Mean squared error, `mean((a − b)²)` (PyTorch `mse_loss`).
    public static func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor { (prediction - target).squared().mean() }

    /// Charbonnier loss, `mean(√((a − b)² + ε))`, a smooth L1 (BasicSR `CharbonnierLoss`, ε = 1e-12).
    public static func charbonnierLoss(_ prediction: Tensor, _ target: Tensor, epsilon: Float = 1e-12) -> Tensor {
        ((prediction - target).squared() + epsilon).sqrt().mean()
    }
}

extension Tensor {
    /// Dropout: in training mode (`GradientMode.isTraining`) zeroes each element with probability
    /// `rate` and scales the rest by 1/(1 − rate); the identity in evaluation mode or at rate 0.
    public func dropout<G: RandomNumberGenerator>(rate: Float, using generator: inout G) -> Tensor {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
        guard GradientMode.isTraining, rate > 0 else { return self }
        let keep = 1 - rate
        let mask = Tensor.filled(shape: shape) { out in
            for i in 0..<count { out[i] = Float.random(in: 0..<1, using: &generator) < keep ? 1 / keep : 0 }
        }
        return self * mask
    }
}
