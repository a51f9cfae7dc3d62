import Foundation
import SRNN
import SRTensor

/// The latent-diffusion U-Nets' encoding of integer timesteps and its MLP.
public enum TimestepEmbedding {
    /// Sinusoidal embedding `[cos(t·ωₖ), sin(t·ωₖ)]` (cos first), ωₖ = exp(−ln(maxPeriod)·k/half),
    /// k < half = dimension/2, and one zero column more when `dimension` is odd.
    ///
    /// Matches: `timestep_embedding` of `ldm/modules/diffusionmodules/util.py` (IceClear/StableSR
    /// 398ee93, the same function as Stability-AI's SD2), computed in Float32 as it is. Not the
    /// VAE's `get_timestep_embedding` (sin first), which StableSR never calls.
    /// - Parameters:
    ///   - timesteps: `[N]`, the (original, un-respaced) timestep of each batch element.
    ///   - dimension: the embedding width.
    /// - Returns: `[N, dimension]`.
    public static func sinusoidal(_ timesteps: Tensor, dimension: Int, maxPeriod: Float = 10000) -> Tensor {
        precondition(timesteps.rank == 1 && dimension >= 2, "timesteps must be [N] and the dimension at least 2")
        let half = dimension / 2
        let logPeriod = -Foundation.log(maxPeriod)
        let frequencies = Tensor(shape: [1, half], values: (0..<half).map { k in
            Foundation.exp(logPeriod * Float(k) / Float(half))
        })
        let phase = timesteps.reshaped(to: [-1, 1]) * frequencies
        var parts = [phase.cos(), phase.sin()]
        if dimension % 2 == 1 { parts.append(Tensor.zeros([timesteps.shape[0], 1])) }
        return Tensor.concatenate(parts, alongAxis: 1)
    }
}

/// `time_embed`: Linear(C → 4C) → SiLU → Linear(4C → 4C) on the sinusoidal embedding of width C
/// (keys `0.*` and `2.*`, the reference's `nn.Sequential`).
public final class TimestepEmbeddingMLP: Module, @unchecked Sendable {
    /// The sinusoidal embedding's width (the model's base channel count).
    public let inputWidth: Int
    let first: Linear
    let second: Linear
    override public var parameterKeys: [String: String] { ["first": "0", "second": "2"] }

    public init<G: RandomNumberGenerator>(inputWidth: Int, outputWidth: Int, using generator: inout G) {
        self.inputWidth = inputWidth
        first = Linear(inputFeatures: inputWidth, outputFeatures: outputWidth, using: &generator)
        second = Linear(inputFeatures: outputWidth, outputFeatures: outputWidth, using: &generator)
    }

    /// - Parameter timesteps: `[N]`. - Returns: `[N, outputWidth]`.
    public func callAsFunction(_ timesteps: Tensor) -> Tensor {
        second(first(TimestepEmbedding.sinusoidal(timesteps, dimension: inputWidth)).silu())
    }
}
