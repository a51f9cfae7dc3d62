import Foundation
import SRTensor

/// An iterative-refinement sampler for ε-predicting models conditioned on the continuous noise
/// level √ᾱ (SR3). A sampler is a value: multistep history is part of its state.
///
/// The loop (see `DiffusionSampling`) evaluates the model at `noiseLevel(at: i)` for
/// i = 0 … stepCount−1 (noisiest first) and passes the prediction to `step`.
public protocol DiffusionSampler: Sendable {
    /// Network evaluations in one run.
    var stepCount: Int { get }
    /// √ᾱ fed to the network at step `index`.
    func noiseLevel(at index: Int) -> Float
    /// The next, less noisy sample. `noise` draws a standard-normal tensor shaped like `x`; it is
    /// called only when the update is stochastic (so random streams stay in step with a reference).
    mutating func step(_ x: Tensor, predictedNoise: Tensor, at index: Int, noise: () -> Tensor) -> Tensor
}

/// Timesteps used by a sampler run: `count` indices of the training schedule spread evenly from the
/// last (noisiest) to the first, and their ᾱ. With `count == T` every step is used (the reference's
/// `p_sample_loop`).
public struct RespacedSchedule: Sendable, Equatable {
    /// Training-schedule indices, noisiest first.
    public let timesteps: [Int]
    /// ᾱ at each of `timesteps`.
    public let alphasCumprod: [Double]

    public init(_ schedule: NoiseSchedule, count: Int) {
        let total = schedule.stepCount
        precondition(count >= 1 && count <= total, "step count must be in 1...\(total), got \(count)")
        let ascending: [Int] = count == 1 ? [total - 1]
            : (0..<count).map { Int((Double($0) * Double(total - 1) / Double(count - 1)).rounded()) }
        timesteps = ascending.reversed()
        alphasCumprod = timesteps.map { schedule.alphasCumprod[$0] }
    }

    /// ᾱ after step `index` (1 after the last).
    public func previousAlphaCumprod(_ index: Int) -> Double { index + 1 < alphasCumprod.count ? alphasCumprod[index + 1] : 1 }
}

extension Tensor {
    /// a·x + b·y for scalars (no gradient recording needed by samplers).
    static func combination(_ a: Double, _ x: Tensor, _ b: Double, _ y: Tensor) -> Tensor {
        x * Float(a) + y * Float(b)
    }
}
