import Foundation
import SRNN
import SRTensor

/// The KL autoencoder of latent diffusion (`AutoencoderKL`), and with `fusion` StableSR's CFW model
/// (`AutoencoderKLResi`: the same encoder, a `Decoder_Mix`).
///
/// Keys: `encoder.*`, `decoder.*` (CFW: `decoder.fusion_layer_{1,2}.*`), `quant_conv` (1×1,
/// 2z → 2·embed), `post_quant_conv` (1×1, embed → z). Matches: IceClear/StableSR 398ee93
/// `ldm/models/autoencoder.py` for inference (the loss network is not part of it).
public final class KLAutoencoder: Module, @unchecked Sendable {
    public let configuration: AutoencoderConfiguration
    let encoder: VAEEncoder
    let decoder: VAEDecoder
    let quantConv: Conv2D
    let postQuantConv: Conv2D
    override public var parameterKeys: [String: String] { ["quantConv": "quant_conv", "postQuantConv": "post_quant_conv"] }

    /// Whether the decoder has CFW's fusion layers.
    public var hasFusion: Bool { decoder.hasFusion }

    public init<G: RandomNumberGenerator>(configuration c: AutoencoderConfiguration, fusion: Bool, using generator: inout G) throws {
        try c.validate(fusion: fusion)
        configuration = c
        encoder = VAEEncoder(configuration: c, using: &generator)
        decoder = try VAEDecoder(configuration: c, fusion: fusion, using: &generator)
        quantConv = Conv2D(inputChannels: 2 * c.zChannels, outputChannels: 2 * c.embedDim, kernelSize: 1, using: &generator)
        postQuantConv = Conv2D(inputChannels: c.embedDim, outputChannels: c.zChannels, kernelSize: 1, using: &generator)
    }

    /// The posterior of an image and the encoder's CFW features.
    /// - Parameter image: `[N, H, W, 3]` in [−1, 1], H and W divisible by the downsampling factor.
    public func encode(_ image: Tensor) -> AutoencoderPosterior {
        let f = configuration.downsamplingFactor
        precondition(image.rank == 4 && image.shape[3] == configuration.inChannels && image.shape[1] % f == 0 && image.shape[2] % f == 0,
                     "KLAutoencoder.encode expects [N, H, W, \(configuration.inChannels)] with H, W divisible by \(f), got \(image.shape)")
        let (moments, features) = encoder(image)
        return AutoencoderPosterior(moments: quantConv(moments), features: features)
    }

    /// Decodes a latent (before any diffusion scale factor: the reference's `z / scale_factor`).
    /// - Parameters:
    ///   - latent: `[N, h, w, embed_dim]`.
    ///   - features: the CFW features of the image whose latent this is (`encode(_:).features`).
    ///   - fusionWeight: CFW's w (0: the plain decoder).
    /// - Returns: `[N, h·f, w·f, 3]`, nominally in [−1, 1].
    public func decode(_ latent: Tensor, features: [Tensor] = [], fusionWeight: Float = 0) -> Tensor {
        decoder(postQuantConv(latent), features: features, fusionWeight: fusionWeight)
    }
}

/// The diagonal Gaussian posterior of an encoding (`DiagonalGaussianDistribution`) with the
/// encoder's CFW features; a deterministic encoder's (the tiny autoencoder's) is a point mass.
public struct AutoencoderPosterior {
    /// `[N, h, w, embed_dim]`.
    public let mean: Tensor
    /// `[N, h, w, embed_dim]`, log σ² clamped to [−30, 20] as the reference does; nil for a
    /// deterministic encoder.
    public let logVariance: Tensor?
    /// The encoder's features at levels 1 and 2 (CFW), finest first.
    public let features: [Tensor]

    init(moments: Tensor, features: [Tensor]) {
        let channels = moments.shape[3] / 2
        mean = moments.sliced(alongAxis: 3, from: 0, count: channels)
        logVariance = moments.sliced(alongAxis: 3, from: channels, count: channels).clamped(lower: -30, upper: 20)
        self.features = features
    }

    /// A deterministic encoding.
    init(latent: Tensor, features: [Tensor]) {
        mean = latent
        logVariance = nil
        self.features = features
    }

    /// Whether sampling draws noise (false for a deterministic encoder: `sample` is the mean).
    public var isStochastic: Bool { logVariance != nil }

    /// mean + σ·ε for a standard-normal `noise` shaped like the mean (`sample()`; the reference draws
    /// ε with `torch.randn` in NCHW order on the CPU generator); the mean when deterministic.
    public func sample(noise: Tensor) -> Tensor {
        precondition(noise.shape == mean.shape, "posterior noise \(noise.shape) must be shaped like the mean \(mean.shape)")
        guard let logVariance else { return mean }
        return mean + (logVariance * 0.5).exp() * noise
    }
}
