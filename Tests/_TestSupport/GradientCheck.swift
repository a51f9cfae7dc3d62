import Foundation
import SRTensor

/// A deterministic pseudo-random tensor (SplitMix64), values uniform in `[lower, upper)`.
public func testTensor(_ shape: [Int], seed: UInt64, lower: Float = -1, upper: Float = 1) -> Tensor {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return lower + (upper - lower) * Float(Double(z >> 11) / Double(1 << 53))
    }
    return Tensor(shape: shape, values: values)
}

/// The result of comparing reverse-mode gradients with central finite differences.
public struct GradientCheckResult: CustomStringConvertible {
    /// The largest |analytic − numeric| / (1 + |numeric|) over every checked element.
    public var worstError: Double
    public var worstLocation: String
    public var description: String { "worst error \(worstError) at \(worstLocation)" }
}

/// Checks `valueAndGradient` of `f` against central differences.
///
/// The loss is `Σ f(x) ⊙ w` for a fixed random `w` (so every output element matters), evaluated in
/// Float and accumulated in Double; each input element is perturbed by ±`epsilon`.
public func checkGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    let sample = f(inputs)
    let weights = testTensor(sample.shape, seed: 4242)
    func loss(_ xs: [Tensor]) -> Double {
        let out = f(xs)
        var total = 0.0
        out.withUnsafeBufferPointer { o in weights.withUnsafeBufferPointer { w in
            for i in 0..<o.count { total += Double(o[i]) * Double(w[i]) }
        } }
        return total
    }
    let (_, gradients) = valueAndGradient(at: inputs) { xs in (f(xs) * weights).sum() }
    var worst = 0.0, location = "-"
    for (n, input) in inputs.enumerated() {
        let analytic = gradients[n].scalars
        for i in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[n].withUnsafeMutableBufferPointer { $0[i] += epsilon }
            minus[n].withUnsafeMutableBufferPointer { $0[i] -= epsilon }
            let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
            let error = Swift.abs(Double(analytic[i]) - numeric) / (1 + Swift.abs(numeric))
            if error > worst { worst = error; location = "input \(n) element \(i): analytic \(analytic[i]) numeric \(numeric)" }
        }
    }
    return GradientCheckResult(worstError: worst, worstLocation: location)
}

/// A small deterministic generator (SplitMix64) for layer initialization in tests.
public struct TestGenerator: RandomNumberGenerator {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
