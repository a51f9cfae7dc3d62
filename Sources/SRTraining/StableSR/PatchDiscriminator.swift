import SRNN
import SRTensor

/// The PatchGAN discriminator of StableSR's CFW loss (taming-transformers' `NLayerDiscriminator`,
/// 3 layers, ndf 64): Conv4×4/2 (3→64), LeakyReLU(0.2); Conv4×4/2 (→128), norm, LeakyReLU;
/// Conv4×4/2 (→256), norm, LeakyReLU; Conv4×4/1 (→512), norm, LeakyReLU; Conv4×4/1 (→1), all
/// padding 1 — one logit per 70×70 patch.
///
/// Deviation: GroupNorm(32) in place of BatchNorm (the reference trains at batch 1, where BatchNorm
/// normalizes over one image's positions much as a group norm does, and its running statistics are
/// never used); the convolutions before a norm keep their bias.
public final class PatchDiscriminator: Module, @unchecked Sendable {
    let convolutions: [Conv2D]
    let norms: [GroupNorm]

    public init<G: RandomNumberGenerator>(width: Int = 64, using generator: inout G) {
        let widths = [3, width, 2 * width, 4 * width, 8 * width, 1]
        convolutions = (0..<5).map { i in
            Conv2D(inputChannels: widths[i], outputChannels: widths[i + 1], kernelSize: 4, stride: i < 3 ? 2 : 1, padding: 1, using: &generator)
        }
        norms = (1..<4).map { GroupNorm(groups: 32, channels: widths[$0 + 1]) }
    }

    /// - Parameter image: `[N, H, W, 3]` in [−1, 1]. - Returns: the patch logits `[N, h, w, 1]`.
    public func callAsFunction(_ image: Tensor) -> Tensor {
        var h = convolutions[0](image).leakyReLU(negativeSlope: 0.2)
        for i in 1..<4 { h = norms[i - 1](convolutions[i](h)).leakyReLU(negativeSlope: 0.2) }
        return convolutions[4](h)
    }
}
