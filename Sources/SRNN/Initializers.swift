import SRTensor

/// PyTorch's default initializations, drawn from an explicit generator.
public enum Initializer {
    /// U(−bound, bound): two 24-bit uniforms per 64-bit draw of the generator.
    public static func uniform<G: RandomNumberGenerator>(_ shape: [Int], bound: Float, using generator: inout G) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor.filled(shape: shape) { out in
            let scale = 2 * bound / Float(1 << 24)
            var i = 0
            while i < count {
                let bits = generator.next()
                out[i] = Float(bits & 0xFF_FFFF) * scale - bound
                if i + 1 < count { out[i + 1] = Float((bits >> 32) & 0xFF_FFFF) * scale - bound }
                i += 2
            }
        }
    }

    /// `nn.Linear`/`nn.Conv2d` default: kaiming_uniform(a = √5) for weights, i.e. U(±1/√fanIn),
    /// and U(±1/√fanIn) for biases.
    public static func pytorchDefault<G: RandomNumberGenerator>(_ shape: [Int], fanIn: Int, using generator: inout G) -> Tensor {
        uniform(shape, bound: 1 / Float(fanIn).squareRoot(), using: &generator)
    }

    /// Xavier/Glorot uniform with `gain` (SR3 initializes some layers this way).
    public static func xavierUniform<G: RandomNumberGenerator>(_ shape: [Int], fanIn: Int, fanOut: Int, gain: Float = 1,
                                                               using generator: inout G) -> Tensor {
        uniform(shape, bound: gain * (6 / Float(fanIn + fanOut)).squareRoot(), using: &generator)
    }
}

/// A generator for modules whose weights are replaced right after construction (checkpoint
/// loading): it yields zeros, so building a large network costs one cheap pass per parameter
/// instead of drawing random numbers that are thrown away. Never use it for training.
public struct WeightsToBeLoaded: RandomNumberGenerator {
    public init() {}
    public mutating func next() -> UInt64 { 0 }
}
