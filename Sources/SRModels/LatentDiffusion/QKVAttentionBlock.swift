import Foundation
import SRNN
import SRTensor

/// The spatial self-attention block of the openaimodel U-Nets (`AttentionBlock` with
/// `QKVAttentionLegacy`, used by StableSR's time-aware encoder): GroupNorm(32, C) → `qkv`
/// (1×1 Conv1d C → 3C, with bias) → per head softmax(q·kᵀ/√d)·v → `proj_out` (Conv1d C → C,
/// zero-initialized) → + x.
///
/// The 3C channels of `qkv` are laid out per head as `[q | k | v]` of d = C/heads each (the legacy
/// order: `qkv.reshape(B·heads, 3d, T).split(d)`). The Conv1d weights `(out, in, 1)` are held as
/// Linear weights `[out, in]` (`StateDictImport` drops the unit axis).
/// Matches: IceClear/StableSR 398ee93 `openaimodel.py` (`use_new_attention_order` False). The
/// reference scales q and k by d^(−1/4) each before the product; here the product is scaled by
/// d^(−1/2) (the same value up to rounding).
public final class QKVAttentionBlock: Module, LatentLayer, @unchecked Sendable {
    let norm: GroupNorm
    let qkv: Linear
    let projOut: Linear
    public let heads: Int
    override public var parameterKeys: [String: String] { ["projOut": "proj_out"] }

    public init<G: RandomNumberGenerator>(channels: Int, heads: Int, zeroInitialized: Bool = true, using generator: inout G) {
        precondition(channels % heads == 0, "\(channels) channels do not split into \(heads) heads")
        norm = GroupNorm(groups: 32, channels: channels)
        qkv = Linear(inputFeatures: channels, outputFeatures: 3 * channels, using: &generator)
        projOut = Linear(inputFeatures: channels, outputFeatures: channels, using: &generator)
        if zeroInitialized { projOut.zeroParameters() }
        self.heads = heads
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: the same shape.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let d = c / heads
        // [N, HW, heads, 3, d] → q, k, v as [N·heads, HW, d]
        let projected = qkv(norm(x).reshaped(to: [n, h * w, c])).reshaped(to: [n, h * w, heads, 3, d]).permuted([3, 0, 2, 1, 4])
        func part(_ i: Int) -> Tensor { projected.sliced(alongAxis: 0, from: i, count: 1).reshaped(to: [n * heads, h * w, d]) }
        var attended = Tensor.scaledDotProductAttention(query: part(0), key: part(1), value: part(2), scale: 1 / Float(d).squareRoot())
        if heads > 1 { attended = attended.reshaped(to: [n, heads, h * w, d]).permuted([0, 2, 1, 3]) }
        return projOut(attended.reshaped(to: [n, h * w, c])).reshaped(to: [n, h, w, c]) + x
    }

    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor { self(x) }
}
