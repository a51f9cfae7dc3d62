import SRTensor

/// PyTorch's default initializations, drawn from an explicit generator.
public enum Initializer {
    /// U(−bound, bound).
    public static func uniform<G: RandomNumberGenerator>(_ shape: [Int], bound: Float, using generator: inout G) -> Tensor {
        let values = (0..<shape.reduce(1, *)).map { _ in Float.random(in: -bound...bound, using: &generator) }
        return Tensor(shape: shape, values: values)
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
