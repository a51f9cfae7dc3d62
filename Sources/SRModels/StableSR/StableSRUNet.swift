import SRNN
import SRTensor

/// StableSR's denoising U-Net (`UNetModelDualcondV2` of `ldm/modules/diffusionmodules/openaimodel.py`):
/// SD 2.x's latent U-Net with every residual block a `ResBlockDual` — modulated by SPADE from the
/// time-aware encoder's feature of the same width — and a `SpatialTransformerV2` (self- and
/// cross-attention to the text context) after the residual blocks of the levels listed in
/// `attention_resolutions`, and always in the middle block.
///
/// Layout (parameter paths equal the checkpoint's keys after `model.diffusion_model.`):
/// `time_embed.{0,2}`; `input_blocks.0.0` (Conv3×3 in → C); per level, `num_res_blocks` blocks
/// `[ResBlockDual, SpatialTransformer?]` and a `Downsample` block except after the last level;
/// `middle_block.{0,1,2}` (ResBlockDual, SpatialTransformer, ResBlockDual); per level from the
/// deepest, `num_res_blocks + 1` blocks `[ResBlockDual on cat(h, skip), SpatialTransformer?,
/// Upsample?]`; `out.{0,2}` (GroupNorm → SiLU → Conv3×3, zero-initialized).
/// Matches: IceClear/StableSR 398ee93 for the supported configurations (`LatentUNetConfiguration`);
/// checked against the reference's own modules at reduced width (`Tools/golden/make_stablesr_fixtures.py`).
public final class StableSRUNet: Module, @unchecked Sendable {
    public let configuration: LatentUNetConfiguration
    let timeEmbed: TimestepEmbeddingMLP
    let inputBlocks: [LatentBlockSequence]
    let middleBlock: LatentBlockSequence
    let outputBlocks: [LatentBlockSequence]
    let out: NormActivationConv
    override public var parameterKeys: [String: String] {
        ["timeEmbed": "time_embed", "inputBlocks": "input_blocks", "middleBlock": "middle_block", "outputBlocks": "output_blocks"]
    }

    /// Builds the network with PyTorch's default initialization (and the reference's zero
    /// initializations), drawn from `generator`.
    public init<G: RandomNumberGenerator>(configuration c: LatentUNetConfiguration, using generator: inout G) throws {
        try c.validate()
        configuration = c
        let embedding = 4 * c.modelChannels
        timeEmbed = TimestepEmbeddingMLP(inputWidth: c.modelChannels, outputWidth: embedding, using: &generator)
        func resBlock(_ input: Int, _ output: Int, _ g: inout G) -> LatentResBlock {
            LatentResBlock(inputChannels: input, outputChannels: output, embeddingWidth: embedding, featureChannels: c.hasStructureConditioning ? c.sembChannels : nil,
                           using: &g)
        }
        func transformer(_ channels: Int, _ g: inout G) -> SpatialTransformer {
            let (heads, headWidth) = c.attentionHeads(channels: channels)
            return SpatialTransformer(channels: channels, heads: heads, headWidth: headWidth, depth: c.transformerDepth,
                                      contextWidth: c.contextDim, using: &g)
        }
        var inputs = [LatentBlockSequence([Conv2D(inputChannels: c.inChannels, outputChannels: c.modelChannels, kernelSize: 3,
                                                  padding: 1, using: &generator)])]
        var skipChannels = [c.modelChannels]
        var channels = c.modelChannels
        var factor = 1
        for (level, multiplier) in c.channelMult.enumerated() {
            for _ in 0..<c.numResBlocks[level] {
                var layers: [Module] = [resBlock(channels, multiplier * c.modelChannels, &generator)]
                channels = multiplier * c.modelChannels
                if c.attentionResolutions.contains(factor) { layers.append(transformer(channels, &generator)) }
                inputs.append(LatentBlockSequence(layers))
                skipChannels.append(channels)
            }
            if level != c.channelMult.count - 1 {
                inputs.append(LatentBlockSequence([LatentDownsample(channels: channels, using: &generator)]))
                skipChannels.append(channels)
                factor *= 2
            }
        }
        inputBlocks = inputs
        middleBlock = LatentBlockSequence([resBlock(channels, channels, &generator), transformer(channels, &generator),
                                           resBlock(channels, channels, &generator)])
        var outputs: [LatentBlockSequence] = []
        for (level, multiplier) in c.channelMult.enumerated().reversed() {
            for i in 0...c.numResBlocks[level] {
                var layers: [Module] = [resBlock(channels + skipChannels.removeLast(), c.modelChannels * multiplier, &generator)]
                channels = c.modelChannels * multiplier
                if c.attentionResolutions.contains(factor) { layers.append(transformer(channels, &generator)) }
                if level > 0 && i == c.numResBlocks[level] {
                    layers.append(LatentUpsample(channels: channels, using: &generator))
                    factor /= 2
                }
                outputs.append(LatentBlockSequence(layers))
            }
        }
        outputBlocks = outputs
        out = NormActivationConv(inputChannels: channels, outputChannels: c.outChannels, groups: 32, convKey: "2", using: &generator)
        out.conv.zeroParameters()
    }

    /// Predicts ε (or v, by the model's parameterization) for a noisy latent.
    /// - Parameters:
    ///   - x: `[N, H, W, in_channels]`, H and W divisible by `configuration.sizeMultiple`.
    ///   - timesteps: `[N]`, the original (un-respaced) timestep of each element.
    ///   - context: `[N, L, context_dim]` (or `[1, L, context_dim]`, shared by the batch).
    ///   - structure: the time-aware encoder's features by width, one for every width the U-Net
    ///     passes through (`TimeAwareEncoder`); empty for a U-Net without structure conditioning
    ///   (`semb_channels` 0).
    /// - Returns: `[N, H, W, out_channels]`.
    public func callAsFunction(_ x: Tensor, timesteps: Tensor, context: Tensor, structure: [Int: Tensor]) -> Tensor {
        let c = configuration
        precondition(x.rank == 4 && x.shape[3] == c.inChannels, "StableSRUNet expects [N, H, W, \(c.inChannels)], got \(x.shape)")
        precondition(x.shape[1] % c.sizeMultiple == 0 && x.shape[2] % c.sizeMultiple == 0,
                     "StableSRUNet: latent size \(x.shape[1])x\(x.shape[2]) must be divisible by \(c.sizeMultiple)")
        precondition(timesteps.shape == [x.shape[0]], "timesteps must be [\(x.shape[0])], got \(timesteps.shape)")
        precondition(context.rank == 3 && context.shape[2] == c.contextDim && (context.shape[0] == x.shape[0] || context.shape[0] == 1),
                     "context must be [\(x.shape[0]) or 1, L, \(c.contextDim)], got \(context.shape)")
        let batchContext = context.shape[0] == x.shape[0] ? context
            : Tensor.concatenate(Array(repeating: context, count: x.shape[0]), alongAxis: 0)
        let inputs = LatentBlockInputs(embedding: timeEmbed(timesteps), context: batchContext, structure: structure)
        var h = x
        var skips: [Tensor] = []
        for block in inputBlocks {
            h = block(h, inputs)
            skips.append(h)
        }
        h = middleBlock(h, inputs)
        for block in outputBlocks { h = block(Tensor.concatenate([h, skips.removeLast()], alongAxis: 3), inputs) }
        return out(h)
    }
}
