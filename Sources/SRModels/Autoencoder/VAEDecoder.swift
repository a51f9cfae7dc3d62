import SRNN
import SRTensor

/// The KL autoencoder's decoder (`Decoder`), and with fusion layers StableSR's `Decoder_Mix`:
/// `conv_in`; `mid`; per level from the deepest `up.<i>` (num_res_blocks + 1 residual blocks, an
/// upsample except at level 0), with CFW's `fusion_layer_<i>` (levels 2 and 1) applied after the
/// level's blocks and before its upsample, fed the encoder's feature of that level; GN → SiLU →
/// `conv_out`.
/// Matches: IceClear/StableSR 398ee93 (`Decoder`, `Decoder_Mix` with `num_fuse_block` 2).
public final class VAEDecoder: Module, @unchecked Sendable {
    let convIn: Conv2D
    let mid: VAEMiddle
    let up: [VAELevel]
    let normOut: GroupNorm
    let convOut: Conv2D
    let fusionLayer1: CFWFusionLayer?
    let fusionLayer2: CFWFusionLayer?
    override public var parameterKeys: [String: String] {
        ["convIn": "conv_in", "normOut": "norm_out", "convOut": "conv_out", "fusionLayer1": "fusion_layer_1", "fusionLayer2": "fusion_layer_2"]
    }

    /// Whether the decoder has CFW's fusion layers.
    public var hasFusion: Bool { fusionLayer1 != nil }

    /// - Parameter fusion: builds `Decoder_Mix` (the configuration must have 4 levels).
    public init<G: RandomNumberGenerator>(configuration c: AutoencoderConfiguration, fusion: Bool, using generator: inout G) throws {
        try c.validate(fusion: fusion)
        let levels = c.channelMult.count
        var channels = c.channels * c.channelMult[levels - 1]
        var resolution = c.resolution >> (levels - 1)
        convIn = Conv2D(inputChannels: c.zChannels, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
        mid = VAEMiddle(channels: channels, using: &generator)
        var byLevel: [VAELevel?] = Array(repeating: nil, count: levels)
        var fusions: [Int: CFWFusionLayer] = [:]
        for level in (0..<levels).reversed() {
            let out = c.channels * c.channelMult[level]
            if fusion && level != levels - 1 && level != 0 { fusions[level] = CFWFusionLayer(channels: out, using: &generator) }
            var blocks: [VAEResnetBlock] = [], attention: [VAEAttentionBlock] = []
            for _ in 0...c.numResBlocks {
                blocks.append(VAEResnetBlock(inputChannels: channels, outputChannels: out, using: &generator))
                channels = out
                if c.attnResolutions.contains(resolution) { attention.append(VAEAttentionBlock(channels: channels, using: &generator)) }
            }
            byLevel[level] = VAELevel(block: blocks, attn: attention, upsample: level == 0 ? nil : LatentUpsample(channels: channels, using: &generator))
            if level != 0 { resolution *= 2 }
        }
        up = byLevel.map { $0! }
        fusionLayer1 = fusions[1]
        fusionLayer2 = fusions[2]
        normOut = GroupNorm(groups: 32, channels: channels, epsilon: 1e-6)
        convOut = Conv2D(inputChannels: channels, outputChannels: c.outChannels, kernelSize: 3, padding: 1, using: &generator)
    }

    /// - Parameters:
    ///   - z: `[N, h, w, z_channels]`, the post-quant latent.
    ///   - features: the encoder's CFW features (levels 1 and 2) of the same image, when the
    ///     decoder fuses them.
    ///   - fusionWeight: w (`fusion_w`); 0 gives the plain decoder and skips the fusion layers.
    /// - Returns: `[N, h·f, w·f, out_ch]`, nominally in [−1, 1].
    public func callAsFunction(_ z: Tensor, features: [Tensor] = [], fusionWeight: Float = 0) -> Tensor {
        let fuses = hasFusion && fusionWeight != 0
        precondition(!fuses || features.count == 2, "CFW decoding needs the encoder's two features, got \(features.count)")
        var h = mid(convIn(z))
        for level in (0..<up.count).reversed() {
            h = up[level].blocks(h)
            if fuses, let fusion = level == 2 ? fusionLayer2 : level == 1 ? fusionLayer1 : nil {
                h = fusion(encoderFeature: features[level - 1], decoderFeature: h, weight: fusionWeight)
            }
            if let upsample = up[level].upsample { h = upsample(h) }
        }
        return convOut(normOut.normalizedSiLU(h))
    }
}
