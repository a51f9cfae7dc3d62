import Foundation
import SRNN
import SRTensor

/// The SR3 U-Net of Janspiry/Image-Super-Resolution-via-Iterative-Refinement
/// (`model/sr3_modules/unet.py`), on NHWC tensors, with parameter paths equal to that model's
/// state-dict keys (`noise_level_mlp.1.weight`, `downs.1.res_block.block1.block.0.weight`, …;
/// a `*_gen.pth` adds the prefix `denoise_fn.`, see `SR3Checkpoint`).
///
/// Layout: a 3×3 stem; per level `res_blocks` residual blocks (self-attention where the level's
/// resolution is in `attn_res`) and a stride-2 downsample except at the last level; a middle
/// residual+attention block and a residual block; on the way up `res_blocks + 1` blocks per level,
/// each fed the concatenation [features, skip] (skips pushed after the stem, every block and every
/// downsample), and nearest×2+conv upsampling except at the first level; then GroupNorm → SiLU →
/// Conv3×3. The input is the channel concatenation [condition (bicubic-upsampled LR), noisy image].
/// Matches: commit 01d27a7 of the reference (verified by a golden test against its own code).
/// Deviations: none in the computation; initialization is PyTorch's default (the reference
/// re-initializes orthogonally for training).
public final class SR3UNet: Module, @unchecked Sendable {
    public let configuration: SR3UNetConfiguration
    let noiseLevelMLP: NoiseLevelMLP
    /// SR3+: the embedding of the condition's augmentation level (nil for SR3).
    let augmentationMLP: NoiseLevelMLP?
    let downs: [Module]
    let mid: [SR3ResnetAttentionBlock]
    let ups: [Module]
    let finalConv: SR3Block
    override public var parameterKeys: [String: String] {
        ["noiseLevelMLP": "noise_level_mlp", "augmentationMLP": "aug_level_mlp", "finalConv": "final_conv"]
    }

    public init<G: RandomNumberGenerator>(configuration c: SR3UNetConfiguration, using generator: inout G) throws {
        try c.validate()
        configuration = c
        let embedding = c.innerChannel
        noiseLevelMLP = NoiseLevelMLP(dimension: c.innerChannel, using: &generator)
        augmentationMLP = c.conditionAugmentation ? NoiseLevelMLP(dimension: c.innerChannel, using: &generator) : nil
        var downs: [Module] = [Conv2D(inputChannels: c.inChannel, outputChannels: c.innerChannel, kernelSize: 3, padding: 1, using: &generator)]
        var skipChannels = [c.innerChannel]
        var channels = c.innerChannel
        var resolution = c.imageSize
        for (level, multiplier) in c.channelMultiplier.enumerated() {
            let attention = c.attnRes.contains(resolution)
            let out = c.innerChannel * multiplier
            for _ in 0..<c.resBlocks {
                downs.append(SR3ResnetAttentionBlock(inputChannels: channels, outputChannels: out, embedding: embedding,
                                                     groups: c.normGroups, dropout: c.dropout, attention: attention, using: &generator))
                skipChannels.append(out)
                channels = out
            }
            if level != c.channelMultiplier.count - 1 {
                downs.append(SR3Downsample(channels: channels, using: &generator))
                skipChannels.append(channels)
                resolution /= 2
            }
        }
        self.downs = downs
        mid = [
            SR3ResnetAttentionBlock(inputChannels: channels, outputChannels: channels, embedding: embedding, groups: c.normGroups,
                                    dropout: c.dropout, attention: true, using: &generator),
            SR3ResnetAttentionBlock(inputChannels: channels, outputChannels: channels, embedding: embedding, groups: c.normGroups,
                                    dropout: c.dropout, attention: false, using: &generator),
        ]
        var ups: [Module] = []
        for level in stride(from: c.channelMultiplier.count - 1, through: 0, by: -1) {
            let attention = c.attnRes.contains(resolution)
            let out = c.innerChannel * c.channelMultiplier[level]
            for _ in 0...c.resBlocks {
                ups.append(SR3ResnetAttentionBlock(inputChannels: channels + skipChannels.removeLast(), outputChannels: out,
                                                   embedding: embedding, groups: c.normGroups, dropout: c.dropout,
                                                   attention: attention, using: &generator))
                channels = out
            }
            if level > 0 {
                ups.append(SR3Upsample(channels: channels, using: &generator))
                resolution *= 2
            }
        }
        self.ups = ups
        finalConv = SR3Block(inputChannels: channels, outputChannels: c.outChannel, groups: c.normGroups, dropout: 0, using: &generator)
    }

    /// The factor the input's height and width must be divisible by.
    public var sizeMultiple: Int { 1 << (configuration.channelMultiplier.count - 1) }

    /// Predicts the noise.
    /// - Parameters:
    ///   - input: `[N, H, W, inChannel]`, the concatenation [condition, noisy image] in [−1, 1]
    ///     (H and W divisible by `sizeMultiple`).
    ///   - noiseLevel: `[N]`, the continuous noise level √ᾱ of each batch element.
    ///   - augmentationLevel: `[N]`, √ᾱ of the noise added to the condition (SR3+; 1 = none);
    ///     ignored by models without condition augmentation.
    ///   - generator: draws dropout masks in training mode (unused in evaluation mode).
    /// - Returns: `[N, H, W, outChannel]`.
    public func callAsFunction<G: RandomNumberGenerator>(_ input: Tensor, noiseLevel: Tensor, augmentationLevel: Tensor? = nil,
                                                         using generator: inout G) -> Tensor {
        precondition(input.rank == 4 && input.shape[3] == configuration.inChannel,
                     "SR3UNet expects [N, H, W, \(configuration.inChannel)], got \(input.shape)")
        precondition(input.shape[1] % sizeMultiple == 0 && input.shape[2] % sizeMultiple == 0,
                     "SR3UNet input size \(input.shape[1])x\(input.shape[2]) must be divisible by \(sizeMultiple)")
        precondition(noiseLevel.shape == [input.shape[0]], "noise level must be [\(input.shape[0])], got \(noiseLevel.shape)")
        var embedding = noiseLevelMLP(noiseLevel)
        if let augmentationMLP {
            embedding = embedding + augmentationMLP(augmentationLevel ?? Tensor.ones(noiseLevel.shape))
        }
        var x = input
        var skips: [Tensor] = []
        for layer in downs {
            switch layer {
            case let block as SR3ResnetAttentionBlock: x = block(x, embedding: embedding, using: &generator)
            case let down as SR3Downsample: x = down(x)
            case let stem as Conv2D: x = stem(x)
            default: preconditionFailure("unexpected layer")
            }
            skips.append(x)
        }
        for block in mid { x = block(x, embedding: embedding, using: &generator) }
        for layer in ups {
            switch layer {
            case let block as SR3ResnetAttentionBlock:
                x = block(Tensor.concatenate([x, skips.removeLast()], alongAxis: 3), embedding: embedding, using: &generator)
            case let up as SR3Upsample: x = up(x)
            default: preconditionFailure("unexpected layer")
            }
        }
        return finalConv(x, using: &generator)
    }
}
