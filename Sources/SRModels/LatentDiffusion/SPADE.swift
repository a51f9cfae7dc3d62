import SRNN
import SRTensor

/// StableSR's spatial feature transform as its code runs it (`ldm/modules/spade.py`, "SPADE"):
/// out = GN(h)·(1 + γ(F)) + β(F), where GN is GroupNorm(32, C) *with* its own affine parameters
/// (`param_free_norm`, despite the name), and γ, β are 3×3 convolutions of a shared
/// Conv3×3(F → 128) → ReLU of the structure feature F whose width equals h's width.
///
/// Keys: `param_free_norm.*`, `mlp_shared.0.*`, `mlp_gamma.*`, `mlp_beta.*`.
/// Matches: IceClear/StableSR 398ee93 (`SPADE(norm_nc, label_nc)`, 'spadeinstance3x3': 3×3 kernels,
/// hidden width 128 hard-coded there). Limitations: the feature is looked up by width only and is
/// not resized, as in the reference: its height must equal h's.
public final class SPADE: Module, @unchecked Sendable {
    /// The reference's hard-coded hidden width.
    public static let hiddenWidth = 128
    let paramFreeNorm: GroupNorm
    let mlpShared: Conv2D
    let mlpGamma: Conv2D
    let mlpBeta: Conv2D
    override public var parameterKeys: [String: String] {
        ["paramFreeNorm": "param_free_norm", "mlpShared": "mlp_shared.0", "mlpGamma": "mlp_gamma", "mlpBeta": "mlp_beta"]
    }

    /// - Parameters:
    ///   - channels: C, the modulated feature map's channels (a multiple of 32).
    ///   - featureChannels: the structure features' channels (`semb_channels`).
    public init<G: RandomNumberGenerator>(channels: Int, featureChannels: Int, using generator: inout G) {
        paramFreeNorm = GroupNorm(groups: 32, channels: channels)
        mlpShared = Conv2D(inputChannels: featureChannels, outputChannels: Self.hiddenWidth, kernelSize: 3, padding: 1, using: &generator)
        mlpGamma = Conv2D(inputChannels: Self.hiddenWidth, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
        mlpBeta = Conv2D(inputChannels: Self.hiddenWidth, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
    }

    /// - Parameters:
    ///   - h: `[N, H, W, C]`.
    ///   - features: structure features keyed by width; the one keyed `W` must be `[N, H, W, F]`.
    /// - Returns: `[N, H, W, C]`.
    public func callAsFunction(_ h: Tensor, features: [Int: Tensor]) -> Tensor {
        let width = h.shape[2]
        guard let feature = features[width] else {
            preconditionFailure("SPADE: no structure feature of width \(width) (have \(features.keys.sorted()))")
        }
        precondition(feature.shape[0] == h.shape[0] && feature.shape[1] == h.shape[1],
                     "SPADE: feature \(feature.shape) does not match the feature map \(h.shape)")
        let activation = mlpShared(feature).relu()
        // GN(h)·(1 + γ) + β = GN(h) + GN(h)·γ + β; β is added inside its convolution.
        let normalized = paramFreeNorm(h)
        return mlpBeta(activation, adding: normalized + normalized * mlpGamma(activation))
    }
}
