import SRNN
import SRTensor

/// The KL autoencoder's encoder (`Encoder` of `ldm/modules/diffusionmodules/model.py`): `conv_in`;
/// per level `down.<i>` (residual blocks, attention where the level's resolution is listed, a
/// downsample except at the last level); `mid`; GN → SiLU → `conv_out` (→ 2·z_channels: mean and
/// log-variance).
///
/// It also returns StableSR's CFW features (`return_fea=True`): the output of the residual blocks
/// of levels 1 and 2, before their downsample (256 ch at H/2 and 512 ch at H/4 for SD's VAE).
/// Matches: IceClear/StableSR 398ee93.
public final class VAEEncoder: Module, @unchecked Sendable {
    let convIn: Conv2D
    let down: [VAELevel]
    let mid: VAEMiddle
    let normOut: GroupNorm
    let convOut: Conv2D
    override public var parameterKeys: [String: String] { ["convIn": "conv_in", "normOut": "norm_out", "convOut": "conv_out"] }

    public init<G: RandomNumberGenerator>(configuration c: AutoencoderConfiguration, using generator: inout G) {
        convIn = Conv2D(inputChannels: c.inChannels, outputChannels: c.channels, kernelSize: 3, padding: 1, using: &generator)
        var levels: [VAELevel] = []
        var channels = c.channels
        var resolution = c.resolution
        for (level, multiplier) in c.channelMult.enumerated() {
            let out = c.channels * multiplier
            var blocks: [VAEResnetBlock] = [], attention: [VAEAttentionBlock] = []
            for _ in 0..<c.numResBlocks {
                blocks.append(VAEResnetBlock(inputChannels: channels, outputChannels: out, using: &generator))
                channels = out
                if c.attnResolutions.contains(resolution) { attention.append(VAEAttentionBlock(channels: channels, using: &generator)) }
            }
            let isLast = level == c.channelMult.count - 1
            levels.append(VAELevel(block: blocks, attn: attention, downsample: isLast ? nil : VAEDownsample(channels: channels, using: &generator)))
            if !isLast { resolution /= 2 }
        }
        down = levels
        mid = VAEMiddle(channels: channels, using: &generator)
        normOut = GroupNorm(groups: 32, channels: channels, epsilon: 1e-6)
        convOut = Conv2D(inputChannels: channels, outputChannels: 2 * c.zChannels, kernelSize: 3, padding: 1, using: &generator)
    }

    /// - Parameter x: `[N, H, W, in_channels]` in [−1, 1], H and W divisible by the downsampling factor.
    /// - Returns: the moments `[N, H/f, W/f, 2·z_channels]` and the features of levels 1 and 2.
    public func callAsFunction(_ x: Tensor) -> (moments: Tensor, features: [Tensor]) {
        var h = convIn(x)
        var features: [Tensor] = []
        for (i, level) in down.enumerated() {
            h = level.blocks(h)
            if i == 1 || i == 2 { features.append(h) }
            if let downsample = level.downsample { h = downsample(h) }
        }
        h = mid(h)
        return (convOut(normOut.normalizedSiLU(h)), features)
    }
}
