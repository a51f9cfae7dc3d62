import SRTensor

/// Self-attention over the spatial positions of an NHWC feature map, with a residual connection:
/// `x + out(attention(qkv(norm(x))))`, the attention block of DDPM/SR3-style U-Nets.
///
/// Parameters: `norm` (GroupNorm), `qkv` (1×1 conv, C → 3C, no bias), `out` (1×1 conv, C → C).
/// The 3C channels of `qkv` are ordered per head as `[q | k | v]` of `C/heads` each — the layout
/// of SR3's `SelfAttention` (`view(B, heads, 3·d, H, W).chunk(3)`), so its weights load as they are.
/// Scores are scaled by 1/√C as SR3 does (with one head this is 1/√d).
public final class Attention2D: Module, @unchecked Sendable {
    public let norm: GroupNorm
    public let qkv: Conv2D
    public let out: Conv2D
    public let heads: Int

    /// `channels` split into `heads` heads; GroupNorm with `groups` groups; convolutions with
    /// PyTorch's default initialization.
    public init<G: RandomNumberGenerator>(channels: Int, heads: Int = 1, groups: Int = 32, using generator: inout G) {
        precondition(channels % heads == 0, "\(channels) channels do not split into \(heads) heads")
        norm = GroupNorm(groups: groups, channels: channels)
        qkv = Conv2D(inputChannels: channels, outputChannels: 3 * channels, kernelSize: 1, bias: false, using: &generator)
        out = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 1, using: &generator)
        self.heads = heads
    }

    /// - Parameter input: `[N, H, W, C]`. - Returns: the same shape.
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let d = c / heads
        // [N, HW, heads, 3, d] → q, k, v as [N·heads, HW, d]
        let projected = qkv(norm(input)).reshaped(to: [n, h * w, heads, 3, d]).permuted([3, 0, 2, 1, 4])
        func part(_ i: Int) -> Tensor { projected.sliced(alongAxis: 0, from: i, count: 1).reshaped(to: [n * heads, h * w, d]) }
        let (q, k, v) = (part(0), part(1), part(2))
        var attended = Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 1 / Float(c).squareRoot())
        if heads > 1 { attended = attended.reshaped(to: [n, heads, h * w, d]).permuted([0, 2, 1, 3]) }
        attended = attended.reshaped(to: [n, h, w, c])
        return input + out(attended)
    }
}
