import SRNN
import SRTensor

/// The autoencoder's `ResnetBlock` without a time embedding: GN → SiLU → Conv3×3 → GN → SiLU →
/// Conv3×3, plus the input (through `nin_shortcut`, a 1×1 conv, when the width changes).
/// GroupNorm(32, eps 1e-6). Keys `norm1`, `conv1`, `norm2`, `conv2`, `nin_shortcut`.
/// Matches: `ldm/modules/diffusionmodules/model.py` (IceClear/StableSR 398ee93) with `temb_channels`
/// 0, `conv_shortcut` False, dropout 0.
public final class VAEResnetBlock: Module, @unchecked Sendable {
    let norm1: GroupNorm
    let conv1: Conv2D
    let norm2: GroupNorm
    let conv2: Conv2D
    let ninShortcut: Conv2D?
    let shortcutKey: String
    override public var parameterKeys: [String: String] { ["ninShortcut": shortcutKey] }

    /// - Parameter shortcutKey: the key of the 1×1 shortcut (`nin_shortcut` in the autoencoder,
    ///   `conv_out` in CFW's `ResBlock`, which is otherwise the same block).
    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, shortcutKey: String = "nin_shortcut",
                                          using generator: inout G) {
        norm1 = GroupNorm(groups: 32, channels: inputChannels, epsilon: 1e-6)
        conv1 = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, using: &generator)
        norm2 = GroupNorm(groups: 32, channels: outputChannels, epsilon: 1e-6)
        conv2 = Conv2D(inputChannels: outputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, using: &generator)
        ninShortcut = inputChannels == outputChannels ? nil
            : Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, using: &generator)
        self.shortcutKey = shortcutKey
    }

    /// - Parameter x: `[N, H, W, in]`. - Returns: `[N, H, W, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = conv1(norm1.normalizedSiLU(x))
        return conv2(norm2.normalizedSiLU(h), adding: ninShortcut.map { $0(x) } ?? x)
    }
}

/// The autoencoder's single-head spatial self-attention (`AttnBlock`): GroupNorm(32, eps 1e-6),
/// 1×1 convolutions `q`, `k`, `v`, softmax(q·kᵀ/√C)·v, `proj_out`, + x.
public final class VAEAttentionBlock: Module, @unchecked Sendable {
    let norm: GroupNorm
    let q: Conv2D
    let k: Conv2D
    let v: Conv2D
    let projOut: Conv2D
    override public var parameterKeys: [String: String] { ["projOut": "proj_out"] }

    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        norm = GroupNorm(groups: 32, channels: channels, epsilon: 1e-6)
        q = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 1, using: &generator)
        k = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 1, using: &generator)
        v = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 1, using: &generator)
        projOut = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 1, using: &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let normalized = norm(x)
        func sequence(_ t: Tensor) -> Tensor { t.reshaped(to: [n, h * w, c]) }
        let attended = Tensor.scaledDotProductAttention(query: sequence(q(normalized)), key: sequence(k(normalized)),
                                                        value: sequence(v(normalized)), scale: 1 / Float(c).squareRoot())
        return projOut(attended.reshaped(to: [n, h, w, c]), adding: x)
    }
}

/// The autoencoder's `Downsample`: zero padding of one row and column at the bottom and right, then
/// Conv3×3 stride 2 without padding (key `conv`), so a side n becomes ⌊(n − 2)/2⌋ + 1 = ⌈n/2⌉ for
/// even n.
public final class VAEDownsample: Module, @unchecked Sendable {
    let conv: Conv2D

    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        conv = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: 2, using: &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: `[N, H/2, W/2, C]` for even H, W.
    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x.padded(top: 0, bottom: 1, left: 0, right: 1)) }
}

/// One level of the encoder (`down.<i>`) or decoder (`up.<i>`): residual blocks `block.<j>`,
/// optional attention `attn.<j>` after each, and a `downsample` or `upsample` (key `conv` inside).
public final class VAELevel: Module, @unchecked Sendable {
    let block: [VAEResnetBlock]
    let attn: [VAEAttentionBlock]
    let downsample: VAEDownsample?
    let upsample: LatentUpsample?

    init(block: [VAEResnetBlock], attn: [VAEAttentionBlock], downsample: VAEDownsample? = nil, upsample: LatentUpsample? = nil) {
        precondition(attn.isEmpty || attn.count == block.count, "a level has attention after every block or none")
        self.block = block
        self.attn = attn
        self.downsample = downsample
        self.upsample = upsample
    }

    /// The residual blocks (and attention) of the level, without the resampling.
    func blocks(_ x: Tensor) -> Tensor {
        var h = x
        for (j, resnet) in block.enumerated() {
            h = resnet(h)
            if !attn.isEmpty { h = attn[j](h) }
        }
        return h
    }
}

/// The middle of the encoder and decoder: `block_1`, `attn_1`, `block_2`.
public final class VAEMiddle: Module, @unchecked Sendable {
    let block1: VAEResnetBlock
    let attn1: VAEAttentionBlock
    let block2: VAEResnetBlock
    override public var parameterKeys: [String: String] { ["block1": "block_1", "attn1": "attn_1", "block2": "block_2"] }

    init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        block1 = VAEResnetBlock(inputChannels: channels, outputChannels: channels, using: &generator)
        attn1 = VAEAttentionBlock(channels: channels, using: &generator)
        block2 = VAEResnetBlock(inputChannels: channels, outputChannels: channels, using: &generator)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { block2(attn1(block1(x))) }
}
