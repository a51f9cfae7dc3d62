import Foundation
import SRNN
import SRTensor

/// SR3's sinusoidal encoding of the continuous noise level followed by an MLP:
/// [sin(s·ωₖ), cos(s·ωₖ)] with ωₖ = exp(−ln(10⁴)·k/(dim/2)), k < dim/2 (no ×5000 scale), then
/// Linear(dim→4dim) → SiLU → Linear(4dim→dim). Keys `1.*` and `3.*` (the reference's `nn.Sequential`).
public final class NoiseLevelMLP: Module, @unchecked Sendable {
    public let dimension: Int
    let first: Linear
    let second: Linear
    override public var parameterKeys: [String: String] { ["first": "1", "second": "3"] }

    public init<G: RandomNumberGenerator>(dimension: Int, using generator: inout G) {
        self.dimension = dimension
        first = Linear(inputFeatures: dimension, outputFeatures: 4 * dimension, using: &generator)
        second = Linear(inputFeatures: 4 * dimension, outputFeatures: dimension, using: &generator)
    }

    /// - Parameter noiseLevel: `[B]`, the continuous noise level √ᾱ. - Returns: `[B, dim]`.
    public func callAsFunction(_ noiseLevel: Tensor) -> Tensor {
        let count = dimension / 2
        let frequencies = Tensor(shape: [1, count], values: (0..<count).map { k in
            Float(Foundation.exp(-Foundation.log(1e4) * Double(Float(k) / Float(count))))
        })
        let phase = noiseLevel.reshaped(to: [-1, 1]) * frequencies
        let encoding = Tensor.concatenate([phase.sin(), phase.cos()], alongAxis: 1)
        return second(first(encoding).silu())
    }
}

/// GroupNorm → SiLU → Dropout → Conv3×3 (the reference's `Block`; keys `block.0.*`, `block.3.*`).
public final class SR3Block: Module, @unchecked Sendable {
    let norm: GroupNorm
    let dropout: Dropout
    let conv: Conv2D
    override public var parameterKeys: [String: String] { ["norm": "block.0", "conv": "block.3"] }

    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, groups: Int, dropout: Float,
                                          using generator: inout G) {
        norm = GroupNorm(groups: groups, channels: inputChannels)
        self.dropout = Dropout(rate: dropout)
        conv = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, using: &generator)
    }

    public func callAsFunction<G: RandomNumberGenerator>(_ x: Tensor, using generator: inout G) -> Tensor {
        conv(dropout(norm.normalizedSiLU(x), using: &generator))
    }

    /// `self(x) + addend`, the addition fused into the convolution (`Conv2D.callAsFunction(_:adding:)`);
    /// `addend` is `[N, H, W, out]` or `[N, 1, 1, out]`.
    public func callAsFunction<G: RandomNumberGenerator>(_ x: Tensor, adding addend: Tensor, using generator: inout G) -> Tensor {
        conv(dropout(norm.normalizedSiLU(x), using: &generator), adding: addend)
    }
}

/// The reference's `ResnetBlock`: Block1 → + Linear(noise embedding) per channel (additive FiLM,
/// key `noise_func.noise_func.0`) → Block2 (with dropout) → + 1×1 residual conv when the channel
/// count changes.
public final class SR3ResnetBlock: Module, @unchecked Sendable {
    let noise: Linear
    let block1: SR3Block
    let block2: SR3Block
    let resConv: Conv2D?
    override public var parameterKeys: [String: String] { ["noise": "noise_func.noise_func.0", "resConv": "res_conv"] }

    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, embedding: Int, groups: Int,
                                          dropout: Float, using generator: inout G) {
        noise = Linear(inputFeatures: embedding, outputFeatures: outputChannels, using: &generator)
        block1 = SR3Block(inputChannels: inputChannels, outputChannels: outputChannels, groups: groups, dropout: 0, using: &generator)
        block2 = SR3Block(inputChannels: outputChannels, outputChannels: outputChannels, groups: groups, dropout: dropout, using: &generator)
        resConv = inputChannels != outputChannels
            ? Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, using: &generator) : nil
    }

    /// The noise shift and the residual are added inside block1's and block2's convolutions.
    public func callAsFunction<G: RandomNumberGenerator>(_ x: Tensor, embedding: Tensor, using generator: inout G) -> Tensor {
        let shift = noise(embedding)
        let h = block1(x, adding: shift.reshaped(to: [shift.shape[0], 1, 1, shift.shape[1]]), using: &generator)
        return block2(h, adding: resConv.map { $0(x) } ?? x, using: &generator)
    }
}

/// `ResnetBlocWithAttn`: a residual block, then self-attention when enabled (keys `res_block.*`, `attn.*`).
public final class SR3ResnetAttentionBlock: Module, @unchecked Sendable {
    let resBlock: SR3ResnetBlock
    let attn: Attention2D?
    override public var parameterKeys: [String: String] { ["resBlock": "res_block"] }

    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, embedding: Int, groups: Int,
                                          dropout: Float, attention: Bool, using generator: inout G) {
        resBlock = SR3ResnetBlock(inputChannels: inputChannels, outputChannels: outputChannels, embedding: embedding,
                                  groups: groups, dropout: dropout, using: &generator)
        attn = attention ? Attention2D(channels: outputChannels, heads: 1, groups: groups, using: &generator) : nil
    }

    public func callAsFunction<G: RandomNumberGenerator>(_ x: Tensor, embedding: Tensor, using generator: inout G) -> Tensor {
        let h = resBlock(x, embedding: embedding, using: &generator)
        return attn.map { $0(h) } ?? h
    }
}

/// Stride-2 3×3 convolution (key `conv.*`).
public final class SR3Downsample: Module, @unchecked Sendable {
    let conv: Conv2D
    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        conv = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: 2, padding: 1, using: &generator)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }
}

/// Nearest ×2 upsampling then a 3×3 convolution (key `conv.*`).
public final class SR3Upsample: Module, @unchecked Sendable {
    let conv: Conv2D
    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        conv = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x.upsampledNearest(factor: 2)) }
}
