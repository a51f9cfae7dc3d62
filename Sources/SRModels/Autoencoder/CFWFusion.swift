import SRNN
import SRTensor

/// ESRGAN's residual dense block (`ResidualDenseBlock` of BasicSR's `rrdbnet_arch.py`): five 3×3
/// convolutions, each on the concatenation of the input and all previous outputs (growth
/// `growth` channels), LeakyReLU(0.2) after the first four; returns x + 0.2·conv5(…).
public final class ResidualDenseBlock: Module, @unchecked Sendable {
    let conv1: Conv2D
    let conv2: Conv2D
    let conv3: Conv2D
    let conv4: Conv2D
    let conv5: Conv2D

    public init<G: RandomNumberGenerator>(features: Int, growth: Int = 32, using generator: inout G) {
        func conv(_ input: Int, _ output: Int, _ g: inout G) -> Conv2D {
            Conv2D(inputChannels: input, outputChannels: output, kernelSize: 3, padding: 1, using: &g)
        }
        conv1 = conv(features, growth, &generator)
        conv2 = conv(features + growth, growth, &generator)
        conv3 = conv(features + 2 * growth, growth, &generator)
        conv4 = conv(features + 3 * growth, growth, &generator)
        conv5 = conv(features + 4 * growth, features, &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var inputs = [x]
        for conv in [conv1, conv2, conv3, conv4] {
            inputs.append(conv(Tensor.concatenate(inputs, alongAxis: 3)).leakyReLU(negativeSlope: 0.2))
        }
        return conv5(Tensor.concatenate(inputs, alongAxis: 3)) * 0.2 + x
    }
}

/// ESRGAN's residual-in-residual dense block (`RRDB`): x + 0.2·rdb3(rdb2(rdb1(x))).
public final class RRDB: Module, @unchecked Sendable {
    let rdb1: ResidualDenseBlock
    let rdb2: ResidualDenseBlock
    let rdb3: ResidualDenseBlock

    public init<G: RandomNumberGenerator>(features: Int, growth: Int = 32, using generator: inout G) {
        rdb1 = ResidualDenseBlock(features: features, growth: growth, using: &generator)
        rdb2 = ResidualDenseBlock(features: features, growth: growth, using: &generator)
        rdb3 = ResidualDenseBlock(features: features, growth: growth, using: &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor { rdb3(rdb2(rdb1(x))) * 0.2 + x }
}

/// StableSR's controllable feature wrapping layer (`Fuse_sft_block_RRDB`): from the encoder's
/// feature and the decoder's, f = ResBlock(C → C)(RRDB×n(ResBlock(2C → C)(cat[enc, dec])));
/// returns dec + w·f. w = 0 is the plain decoder; the reference trains at w = 1 and samples at its
/// `--dec_w` (0.5 by default).
///
/// Keys: `encode_enc_1` (ResBlock with 1×1 `conv_out` shortcut), `encode_enc_2.<i>` (RRDBs),
/// `encode_enc_3`. Matches: IceClear/StableSR 398ee93 `ldm/modules/diffusionmodules/model.py`
/// (concatenation order: encoder first).
public final class CFWFusionLayer: Module, @unchecked Sendable {
    let encodeEnc1: VAEResnetBlock
    let encodeEnc2: [RRDB]
    let encodeEnc3: VAEResnetBlock
    override public var parameterKeys: [String: String] { ["encodeEnc1": "encode_enc_1", "encodeEnc2": "encode_enc_2", "encodeEnc3": "encode_enc_3"] }

    public init<G: RandomNumberGenerator>(channels: Int, blocks: Int = 2, using generator: inout G) {
        encodeEnc1 = VAEResnetBlock(inputChannels: 2 * channels, outputChannels: channels, shortcutKey: "conv_out", using: &generator)
        encodeEnc2 = (0..<blocks).map { _ in RRDB(features: channels, using: &generator) }
        encodeEnc3 = VAEResnetBlock(inputChannels: channels, outputChannels: channels, shortcutKey: "conv_out", using: &generator)
    }

    /// - Parameters:
    ///   - encoderFeature: `[N, H, W, C]`, the encoder's feature at this resolution.
    ///   - decoderFeature: `[N, H, W, C]`.
    ///   - weight: w, the fidelity weight.
    /// - Returns: `decoderFeature + w·f`.
    public func callAsFunction(encoderFeature: Tensor, decoderFeature: Tensor, weight: Float) -> Tensor {
        precondition(encoderFeature.shape == decoderFeature.shape,
                     "CFW: encoder feature \(encoderFeature.shape) does not match the decoder's \(decoderFeature.shape)")
        var f = encodeEnc1(Tensor.concatenate([encoderFeature, decoderFeature], alongAxis: 3))
        for block in encodeEnc2 { f = block(f) }
        return decoderFeature + encodeEnc3(f) * weight
    }
}
