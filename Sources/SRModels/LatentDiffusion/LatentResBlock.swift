import SRNN
import SRTensor

/// GroupNorm → SiLU → (Dropout) → Conv3×3, a residual block's `in_layers` / `out_layers`
/// (keys `0.*` for the norm and `2.*` or `3.*` for the convolution, as in the reference's
/// `nn.Sequential`, where `out_layers` has a Dropout at index 2).
public final class NormActivationConv: Module, @unchecked Sendable {
    let norm: GroupNorm
    let conv: Conv2D
    let convKey: String
    override public var parameterKeys: [String: String] { ["norm": "0", "conv": convKey] }

    init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, groups: Int, convKey: String, using generator: inout G) {
        norm = GroupNorm(groups: groups, channels: inputChannels)
        conv = Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 3, padding: 1, using: &generator)
        self.convKey = convKey
    }

    /// conv(SiLU(GN(x))) (+ `addend`, fused into the convolution).
    func callAsFunction(_ x: Tensor, adding addend: Tensor? = nil) -> Tensor {
        let activated = norm.normalizedSiLU(x)
        return addend.map { conv(activated, adding: $0) } ?? conv(activated)
    }
}

/// SiLU → Linear, a residual block's `emb_layers` (key `1.*`).
public final class EmbeddingProjection: Module, @unchecked Sendable {
    let linear: Linear
    override public var parameterKeys: [String: String] { ["linear": "1"] }

    init<G: RandomNumberGenerator>(embeddingWidth: Int, channels: Int, using generator: inout G) {
        linear = Linear(inputFeatures: embeddingWidth, outputFeatures: channels, using: &generator)
    }

    /// - Parameter embedding: `[N, E]`. - Returns: `[N, 1, 1, C]`, a per-sample shift.
    func callAsFunction(_ embedding: Tensor) -> Tensor {
        let shift = linear(embedding.silu())
        return shift.reshaped(to: [shift.shape[0], 1, 1, shift.shape[1]])
    }
}

/// The residual block of the latent-diffusion U-Nets (`ResBlock` of `openaimodel.py`), and with
/// `spade` StableSR's `ResBlockDual`:
///
///     h = in_layers(x) + emb_layers(emb)          (GN → SiLU → Conv3×3, + per-channel shift)
///     h = out_layers(h)                           (GN → SiLU → Dropout → Conv3×3)
///     h = spade(h, struct_cond)                   (ResBlockDual only: after the last conv)
///     return skip_connection(x) + h               (identity, or Conv1×1 when the width changes)
///
/// Keys: `in_layers.{0,2}`, `emb_layers.1`, `out_layers.{0,3}`, `spade.*`, `skip_connection`.
/// Matches: IceClear/StableSR 398ee93 with `use_scale_shift_norm` False, `up`/`down` False,
/// `use_conv` False, dropout 0 (the configurations StableSR and SD 2.1 use); the GroupNorm of
/// `out_layers` has one group per channel when the width is not a multiple of 32, as the
/// reference's `ResBlock` does (`ResBlockDual` always uses 32 groups). GroupNorm eps 1e-5.
public final class LatentResBlock: Module, LatentLayer, @unchecked Sendable {
    let inLayers: NormActivationConv
    let embLayers: EmbeddingProjection
    let outLayers: NormActivationConv
    let spade: SPADE?
    let skipConnection: Conv2D?
    override public var parameterKeys: [String: String] {
        ["inLayers": "in_layers", "embLayers": "emb_layers", "outLayers": "out_layers", "skipConnection": "skip_connection"]
    }

    /// - Parameters:
    ///   - featureChannels: the structure features' channels for a `ResBlockDual` (SPADE), or nil
    ///     for a plain `ResBlock`.
    ///   - zeroInitialized: the last convolution starts at zero, as the reference initializes it.
    public init<G: RandomNumberGenerator>(inputChannels: Int, outputChannels: Int, embeddingWidth: Int, featureChannels: Int? = nil,
                                          zeroInitialized: Bool = true, using generator: inout G) {
        inLayers = NormActivationConv(inputChannels: inputChannels, outputChannels: outputChannels, groups: 32, convKey: "2",
                                      using: &generator)
        embLayers = EmbeddingProjection(embeddingWidth: embeddingWidth, channels: outputChannels, using: &generator)
        spade = featureChannels.map { SPADE(channels: outputChannels, featureChannels: $0, using: &generator) }
        let outGroups = featureChannels != nil || outputChannels % 32 == 0 ? 32 : outputChannels
        outLayers = NormActivationConv(inputChannels: outputChannels, outputChannels: outputChannels, groups: outGroups, convKey: "3",
                                       using: &generator)
        if zeroInitialized { outLayers.conv.zeroParameters() }
        skipConnection = inputChannels == outputChannels ? nil
            : Conv2D(inputChannels: inputChannels, outputChannels: outputChannels, kernelSize: 1, using: &generator)
    }

    /// - Parameters:
    ///   - x: `[N, H, W, in]`.
    ///   - embedding: `[N, E]`.
    ///   - structure: the encoder's features by width (used when the block has SPADE).
    /// - Returns: `[N, H, W, out]`.
    public func callAsFunction(_ x: Tensor, embedding: Tensor, structure: [Int: Tensor] = [:]) -> Tensor {
        let h = inLayers(x, adding: embLayers(embedding))
        let residual = skipConnection.map { $0(x) } ?? x
        guard let spade else { return outLayers(h, adding: residual) }
        return residual + spade(outLayers(h), features: structure)
    }

    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor {
        self(x, embedding: inputs.embedding, structure: inputs.structure)
    }
}
