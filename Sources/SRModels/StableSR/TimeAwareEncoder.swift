import SRNN
import SRTensor

/// StableSR's time-aware encoder (`EncoderUNetModelWT` of `openaimodel.py`): the encoder half of a
/// U-Net on the *clean* LR latent, conditioned on the timestep, whose output is one structure
/// feature per width for the U-Net's SPADE layers.
///
/// Layout (paths equal the checkpoint's keys after `structcond_stage_model.`): `time_embed.{0,2}`;
/// `input_blocks.0.0` (Conv3×3); per level `num_res_blocks` blocks `[ResBlock, AttentionBlock?]`
/// (attention where the downsampling factor is in `attention_resolutions`) and a `Downsample`
/// block except after the last level; `middle_block` (ResBlock, AttentionBlock, ResBlock);
/// `fea_tran.<i>`, one ResBlock → `out_channels` per feature. The features are the tensors
/// entering each Downsample and the middle block's output, each passed through its `fea_tran`
/// block, keyed by their width.
/// Matches: IceClear/StableSR 398ee93 for the supported configurations
/// (`TimeAwareEncoderConfiguration`), checked against its own module at reduced width.
public final class TimeAwareEncoder: Module, @unchecked Sendable {
    public let configuration: TimeAwareEncoderConfiguration
    let timeEmbed: TimestepEmbeddingMLP
    let inputBlocks: [LatentBlockSequence]
    let middleBlock: LatentBlockSequence
    let feaTran: [LatentResBlock]
    override public var parameterKeys: [String: String] {
        ["timeEmbed": "time_embed", "inputBlocks": "input_blocks", "middleBlock": "middle_block", "feaTran": "fea_tran"]
    }

    public init<G: RandomNumberGenerator>(configuration c: TimeAwareEncoderConfiguration, using generator: inout G) throws {
        try c.validate()
        configuration = c
        let embedding = 4 * c.modelChannels
        func resBlock(_ input: Int, _ output: Int, _ g: inout G) -> LatentResBlock {
            LatentResBlock(inputChannels: input, outputChannels: output, embeddingWidth: embedding, using: &g)
        }
        timeEmbed = TimestepEmbeddingMLP(inputWidth: c.modelChannels, outputWidth: embedding, using: &generator)
        var inputs = [LatentBlockSequence([Conv2D(inputChannels: c.inChannels, outputChannels: c.modelChannels, kernelSize: 3,
                                                  padding: 1, using: &generator)])]
        var featureChannels: [Int] = []
        var channels = c.modelChannels
        var factor = 1
        for (level, multiplier) in c.channelMult.enumerated() {
            for _ in 0..<c.numResBlocks {
                var layers: [Module] = [resBlock(channels, multiplier * c.modelChannels, &generator)]
                channels = multiplier * c.modelChannels
                if c.attentionResolutions.contains(factor) {
                    layers.append(QKVAttentionBlock(channels: channels, heads: c.heads(channels: channels), using: &generator))
                }
                inputs.append(LatentBlockSequence(layers))
            }
            if level != c.channelMult.count - 1 {
                inputs.append(LatentBlockSequence([LatentDownsample(channels: channels, using: &generator)]))
                featureChannels.append(channels)
                factor *= 2
            }
        }
        inputBlocks = inputs
        middleBlock = LatentBlockSequence([resBlock(channels, channels, &generator),
                                           QKVAttentionBlock(channels: channels, heads: c.heads(channels: channels), using: &generator),
                                           resBlock(channels, channels, &generator)])
        featureChannels.append(channels)
        feaTran = featureChannels.map { resBlock($0, c.outChannels, &generator) }
    }

    /// The structure features of a clean LR latent at a timestep.
    /// - Parameters:
    ///   - latent: `[N, H, W, in_channels]`, the LR image's latent (scaled by the VAE's scale factor).
    ///   - timesteps: `[N]`, the original (un-respaced) timesteps.
    /// - Returns: one `[N, h, w, out_channels]` feature per width w (the latent's width and each
    ///   halving, ⌈w/2⌉), keyed by w.
    public func callAsFunction(_ latent: Tensor, timesteps: Tensor) -> [Int: Tensor] {
        precondition(latent.rank == 4 && latent.shape[3] == configuration.inChannels,
                     "TimeAwareEncoder expects [N, H, W, \(configuration.inChannels)], got \(latent.shape)")
        precondition(timesteps.shape == [latent.shape[0]], "timesteps must be [\(latent.shape[0])], got \(timesteps.shape)")
        let inputs = LatentBlockInputs(embedding: timeEmbed(configuration.timeInput ? timesteps : Tensor.zeros(timesteps.shape)))
        var h = latent
        var collected: [Tensor] = []
        for block in inputBlocks {
            let previous = h
            h = block(h, inputs)
            if h.shape[2] != previous.shape[2] { collected.append(previous) }
        }
        collected.append(middleBlock(h, inputs))
        precondition(collected.count == feaTran.count, "TimeAwareEncoder: \(collected.count) features for \(feaTran.count) transforms")
        var features: [Int: Tensor] = [:]
        for (feature, transform) in zip(collected, feaTran) {
            features[feature.shape[2]] = transform(feature, embedding: inputs.embedding)
        }
        return features
    }
}
