import SRNN
import SRTensor

/// The tiny autoencoder's shape: TAESD's 8× encoder and decoder at width 64.
public struct TinyAutoencoderConfiguration: Codable, Sendable, Equatable {
    /// Latent channels (TAEF2: 32, the FLUX.2 latent space; TAESD: 4).
    public var latentChannels: Int
    /// The FLUX.2 variant's normalization in the 1/8-resolution blocks (`use_midblock_gn`).
    public var midblockNormalization: Bool
    /// The feature width of every block (64 in every released TAESD).
    public var width: Int

    enum CodingKeys: String, CodingKey { case latentChannels = "latent_channels", midblockNormalization = "midblock_gn", width }

    public init(latentChannels: Int, midblockNormalization: Bool, width: Int = 64) {
        self.latentChannels = latentChannels
        self.midblockNormalization = midblockNormalization
        self.width = width
    }

    /// TAEF2 (madebyollin/taesd 5cccb12, `taef2_*.pth`): 32 latent channels, mid-block GroupNorm.
    public static let taef2 = TinyAutoencoderConfiguration(latentChannels: 32, midblockNormalization: true)

    /// Checks the values; the message names the field.
    public func validate() throws {
        guard latentChannels >= 1, width >= 4, width % 4 == 0 else {
            throw LatentModelConfigurationError("tiny autoencoder: latent_channels must be positive and width a positive multiple of 4 (got \(latentChannels), \(width))")
        }
    }
}

/// TAESD's encoder (`Encoder`, 8×): conv(3→C); Block; then three times a stride-2 conv (no bias)
/// and three Blocks (the last three with the mid-block normalization of the variant); conv(C→latent).
/// Input in [0, 1]. The outputs after layer 5 (1/2 resolution) and layer 9 (1/4) are the features
/// CFW fuses into the decoder (as StableSR's encoder saves its 1/2 and 1/4 features).
/// Keys: the `nn.Sequential` indices `0` … `14`.
public final class TinyEncoder: Module, @unchecked Sendable {
    let layers: [Module]
    override public var parameterKeys: [String: String] { ["layers": ""] }
    /// The sequence indices whose outputs are the CFW features, finest first.
    static let featureLayers = [5, 9]

    init<G: RandomNumberGenerator>(configuration c: TinyAutoencoderConfiguration, using generator: inout G) {
        let w = c.width
        func conv(_ input: Int, _ output: Int, stride: Int = 1, bias: Bool = true, _ g: inout G) -> Module {
            Conv2D(inputChannels: input, outputChannels: output, kernelSize: 3, stride: stride, padding: 1, bias: bias, using: &g)
        }
        func block(_ normalized: Bool, _ g: inout G) -> Module { TinyAutoencoderBlock(channels: w, midblockNormalization: normalized, using: &g) }
        var layers = [conv(3, w, &generator), block(false, &generator)]
        for level in 0..<3 {
            layers.append(conv(w, w, stride: 2, bias: false, &generator))
            for _ in 0..<3 { layers.append(block(level == 2 && c.midblockNormalization, &generator)) }
        }
        layers.append(conv(w, c.latentChannels, &generator))
        self.layers = layers
    }

    /// - Parameter image: `[N, H, W, 3]` in [0, 1], H and W divisible by 8.
    /// - Returns: the latent `[N, H/8, W/8, latent]` and the features at 1/2 and 1/4 resolution.
    func callAsFunction(_ image: Tensor) -> (latent: Tensor, features: [Tensor]) {
        var h = image, features: [Tensor] = []
        for (i, layer) in layers.enumerated() {
            h = (layer as! TinyAutoencoderLayer)(h)
            if Self.featureLayers.contains(i) { features.append(h) }
        }
        return (h, features)
    }
}

/// TAESD's decoder (`Decoder`, 8×): Clamp (3·tanh(x/3)); conv(latent→C); ReLU; three Blocks (with the
/// variant's mid-block normalization); three times ×2 nearest upsampling, a conv without bias and
/// Blocks (three, three, one); conv(C→3). Output nominally in [0, 1].
///
/// With CFW, StableSR's `Decoder_Mix` fusion applied to this decoder: `fusion_layer_2` after the
/// 1/4-resolution blocks (layer 10) and `fusion_layer_1` after the 1/2-resolution blocks (layer 15),
/// each before the next upsampling, fed the encoder's feature of that resolution. This pairing is
/// this project's (the reference attaches CFW to SD's KL decoder at the same two resolutions).
/// Keys: `0` … `19`, `fusion_layer_1.*`, `fusion_layer_2.*`.
public final class TinyDecoder: Module, @unchecked Sendable {
    let layers: [Module]
    let fusionLayer1: CFWFusionLayer?
    let fusionLayer2: CFWFusionLayer?
    override public var parameterKeys: [String: String] { ["layers": "", "fusionLayer1": "fusion_layer_1", "fusionLayer2": "fusion_layer_2"] }

    init<G: RandomNumberGenerator>(configuration c: TinyAutoencoderConfiguration, fusion: Bool, using generator: inout G) {
        let w = c.width
        func conv(_ input: Int, _ output: Int, bias: Bool = true, _ g: inout G) -> Module {
            Conv2D(inputChannels: input, outputChannels: output, kernelSize: 3, padding: 1, bias: bias, using: &g)
        }
        func block(_ normalized: Bool, _ g: inout G) -> Module { TinyAutoencoderBlock(channels: w, midblockNormalization: normalized, using: &g) }
        var layers: [Module] = [TinyAutoencoderFunction(.clamp), conv(c.latentChannels, w, &generator), TinyAutoencoderFunction(.relu)]
        for (level, blocks) in [3, 3, 3, 1].enumerated() {
            if level > 0 { layers += [TinyAutoencoderFunction(.upsample), conv(w, w, bias: false, &generator)] }
            for _ in 0..<blocks { layers.append(block(level == 0 && c.midblockNormalization, &generator)) }
        }
        layers.append(conv(w, 3, &generator))
        self.layers = layers
        fusionLayer1 = fusion ? CFWFusionLayer(channels: w, using: &generator) : nil
        fusionLayer2 = fusion ? CFWFusionLayer(channels: w, using: &generator) : nil
    }

    /// Whether the decoder has CFW's fusion layers.
    public var hasFusion: Bool { fusionLayer1 != nil }

    /// - Parameters:
    ///   - latent: `[N, h, w, latent]`.
    ///   - features: the encoder's features (1/2, 1/4) of the same image, when fusing.
    ///   - fusionWeight: CFW's w; 0 is the plain decoder and skips the fusion layers.
    /// - Returns: `[N, 8h, 8w, 3]`, nominally in [0, 1].
    func callAsFunction(_ latent: Tensor, features: [Tensor], fusionWeight: Float) -> Tensor {
        let fuses = hasFusion && fusionWeight != 0
        precondition(!fuses || features.count == 2, "CFW decoding needs the encoder's two features, got \(features.count)")
        var h = latent
        for (i, layer) in layers.enumerated() {
            h = (layer as! TinyAutoencoderLayer)(h)
            if fuses, i == 10, let fusionLayer2 { h = fusionLayer2(encoderFeature: features[1], decoderFeature: h, weight: fusionWeight) }
            if fuses, i == 15, let fusionLayer1 { h = fusionLayer1(encoderFeature: features[0], decoderFeature: h, weight: fusionWeight) }
        }
        return h
    }
}

/// A tiny autoencoder (TAESD; TAEF2 for the FLUX.2 latent space), optionally with CFW fusion
/// layers in its decoder. Its encoder is deterministic (no posterior to sample).
///
/// Conventions: this type takes and returns images in [−1, 1] like `KLAutoencoder` and maps them to
/// TAESD's [0, 1] inside; latents are TAESD's raw latents (scale factor 1 there: a diffusion model
/// scales them itself). Keys: `encoder.*`, `decoder.*` — the TAESD `nn.Module`'s, so the released
/// `taef2_encoder.pth` / `taef2_decoder.pth` load under those prefixes.
/// Matches: madebyollin/taesd 5cccb12 `taesd.py` (the 8× `Encoder` / `Decoder`).
public final class TinyAutoencoder: Module, @unchecked Sendable {
    public let configuration: TinyAutoencoderConfiguration
    public let encoder: TinyEncoder
    public let decoder: TinyDecoder

    public init<G: RandomNumberGenerator>(configuration: TinyAutoencoderConfiguration, fusion: Bool, using generator: inout G) throws {
        try configuration.validate()
        self.configuration = configuration
        encoder = TinyEncoder(configuration: configuration, using: &generator)
        decoder = TinyDecoder(configuration: configuration, fusion: fusion, using: &generator)
    }

    /// Whether the decoder has CFW's fusion layers.
    public var hasFusion: Bool { decoder.hasFusion }

    /// The latent and the encoder's CFW features of an image.
    /// - Parameter image: `[N, H, W, 3]` in [−1, 1], H and W divisible by 8.
    public func encode(_ image: Tensor) -> AutoencoderPosterior {
        precondition(image.rank == 4 && image.shape[3] == 3 && image.shape[1] % 8 == 0 && image.shape[2] % 8 == 0,
                     "TinyAutoencoder.encode expects [N, H, W, 3] with H, W divisible by 8, got \(image.shape)")
        let (latent, features) = encoder(image * 0.5 + 0.5)
        return AutoencoderPosterior(latent: latent, features: features)
    }

    /// Decodes a latent. - Returns: `[N, 8h, 8w, 3]`, nominally in [−1, 1].
    public func decode(_ latent: Tensor, features: [Tensor] = [], fusionWeight: Float = 0) -> Tensor {
        decoder(latent, features: features, fusionWeight: fusionWeight) * 2 - 1
    }
}
