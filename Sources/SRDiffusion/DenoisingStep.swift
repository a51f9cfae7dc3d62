import SRTensor

/// What a denoiser is told when the sampling loop calls it: the step, its timestep and ᾱ, and
/// which part of the full sample it is looking at (a tile, or all of it).
public struct DenoisingStep: Sendable {
    /// A rectangle of the full sample, in its pixels (latent pixels for latent models).
    public struct Region: Sendable, Equatable {
        public var y: Int
        public var x: Int
        public var height: Int
        public var width: Int
        public init(y: Int, x: Int, height: Int, width: Int) {
            self.y = y
            self.x = x
            self.height = height
            self.width = width
        }
    }

    /// 0 … stepCount−1, noisiest first.
    public var index: Int
    public var stepCount: Int
    /// The training-schedule timestep (what integer-timestep networks are told).
    public var timestep: Int
    /// ᾱ of the step.
    public var alphaCumprod: Double
    /// The part of the full sample the denoiser receives.
    public var region: Region

    public init(index: Int, stepCount: Int, timestep: Int, alphaCumprod: Double, region: Region) {
        self.index = index
        self.stepCount = stepCount
        self.timestep = timestep
        self.alphaCumprod = alphaCumprod
        self.region = region
    }

    /// √ᾱ, the continuous noise level SR3 networks take.
    public var noiseLevel: Float { Float(alphaCumprod.squareRoot()) }
}

/// A network wrapped for the sampling loop: the noisy sample (or a tile of it) and the step →
/// the network's output for it (ε, x₀ or v, by the model's `PredictionType`).
public typealias Denoiser = (_ x: Tensor, _ step: DenoisingStep) -> Tensor

extension Tensor {
    /// The `region` of an NHWC tensor (no gradient recording needed by samplers).
    public func cropped(to region: DenoisingStep.Region) -> Tensor {
        if region.y == 0 && region.x == 0 && region.height == shape[1] && region.width == shape[2] { return self }
        return sliced(alongAxis: 1, from: region.y, count: region.height).sliced(alongAxis: 2, from: region.x, count: region.width)
    }
}
