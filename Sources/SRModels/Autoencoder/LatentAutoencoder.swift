import SRNN
import SRTensor

/// The image autoencoder of a latent diffusion model: SD's KL autoencoder (the released StableSR
/// models) or a tiny autoencoder (TAEF2: the StableSR models trained here), either with CFW
/// fusion layers in its decoder. Images are `[N, H, W, 3]` in [−1, 1].
public protocol LatentAutoencoder: Module {
    /// The latent's channels.
    var latentChannels: Int { get }
    /// The ratio of image to latent side.
    var downsamplingFactor: Int { get }
    /// Whether the decoder has CFW's fusion layers.
    var hasFusion: Bool { get }
    /// The posterior of an image (a point mass for a deterministic encoder) and the encoder's CFW
    /// features (1/2 and 1/4 resolution, finest first).
    func encode(_ image: Tensor) -> AutoencoderPosterior
    /// Decodes a latent (before any diffusion scale factor), fusing `features` at CFW weight w.
    func decode(_ latent: Tensor, features: [Tensor], fusionWeight: Float) -> Tensor
}

extension KLAutoencoder: LatentAutoencoder {
    public var latentChannels: Int { configuration.embedDim }
    public var downsamplingFactor: Int { configuration.downsamplingFactor }
}

extension TinyAutoencoder: LatentAutoencoder {
    public var latentChannels: Int { configuration.latentChannels }
    public var downsamplingFactor: Int { 8 }
}

/// Which autoencoder a latent diffusion model uses, with its configuration.
///
/// Coding: a KL configuration is written as the bare `AutoencoderConfiguration` object (as files
/// converted before the choice existed hold it); a tiny one as `{"tiny": {…}}`.
public enum LatentAutoencoderConfiguration: Codable, Equatable, Sendable {
    case kl(AutoencoderConfiguration)
    case tiny(TinyAutoencoderConfiguration)

    public var latentChannels: Int {
        switch self {
        case .kl(let c): c.embedDim
        case .tiny(let c): c.latentChannels
        }
    }

    public var downsamplingFactor: Int {
        switch self {
        case .kl(let c): c.downsamplingFactor
        case .tiny: 8
        }
    }

    /// Checks the values.
    public func validate() throws {
        switch self {
        case .kl(let c): try c.validate()
        case .tiny(let c): try c.validate()
        }
    }

    /// Builds the autoencoder (with CFW fusion layers when `fusion`).
    public func make<G: RandomNumberGenerator>(fusion: Bool, using generator: inout G) throws -> any LatentAutoencoder {
        switch self {
        case .kl(let c): try KLAutoencoder(configuration: c, fusion: fusion, using: &generator)
        case .tiny(let c): try TinyAutoencoder(configuration: c, fusion: fusion, using: &generator)
        }
    }

    enum CodingKeys: String, CodingKey { case tiny }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let tiny = try container.decodeIfPresent(TinyAutoencoderConfiguration.self, forKey: .tiny) {
            self = .tiny(tiny)
        } else {
            self = .kl(try AutoencoderConfiguration(from: decoder))
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .kl(let c): try c.encode(to: encoder)
        case .tiny(let c):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(c, forKey: .tiny)
        }
    }
}
