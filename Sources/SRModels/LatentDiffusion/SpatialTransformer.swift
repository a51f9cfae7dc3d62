import SRNN
import SRTensor

/// Multi-head attention with linear projections (`CrossAttention` of `ldm/modules/attention.py`):
/// q = x·W_qᵀ, k = c·W_kᵀ, v = c·W_vᵀ (no biases), heads of `headWidth`, softmax(q·kᵀ/√d)·v, then
/// `to_out.0` (Linear with bias). Self-attention when no context is given.
///
/// Keys: `to_q`, `to_k`, `to_v`, `to_out.0`. Matches: IceClear/StableSR 398ee93 (no fp32 upcast of
/// q, k: irrelevant in Float32; the xformers variant has the same parameters and math).
public final class CrossAttention: Module, @unchecked Sendable {
    let toQ: Linear
    let toK: Linear
    let toV: Linear
    let toOut: Linear
    public let heads: Int
    override public var parameterKeys: [String: String] { ["toQ": "to_q", "toK": "to_k", "toV": "to_v", "toOut": "to_out.0"] }

    /// - Parameters:
    ///   - queryWidth: the feature width of the sequence that attends.
    ///   - contextWidth: the context's width (nil: self-attention, the query width).
    public init<G: RandomNumberGenerator>(queryWidth: Int, contextWidth: Int? = nil, heads: Int, headWidth: Int,
                                          using generator: inout G) {
        let inner = heads * headWidth
        toQ = Linear(inputFeatures: queryWidth, outputFeatures: inner, bias: false, using: &generator)
        toK = Linear(inputFeatures: contextWidth ?? queryWidth, outputFeatures: inner, bias: false, using: &generator)
        toV = Linear(inputFeatures: contextWidth ?? queryWidth, outputFeatures: inner, bias: false, using: &generator)
        toOut = Linear(inputFeatures: inner, outputFeatures: queryWidth, using: &generator)
        self.heads = heads
    }

    /// - Parameters:
    ///   - x: `[N, L, queryWidth]`.
    ///   - context: `[N, M, contextWidth]`, or nil for self-attention.
    /// - Returns: `[N, L, queryWidth]`.
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
        let source = context ?? x
        return toOut(Tensor.attention(query: toQ(x), key: toK(source), value: toV(source), heads: heads))
    }
}

/// The gated feed-forward network (`FeedForward(dim, glu=True)`): `net.0.proj` = Linear(C → 8C)
/// split into (a, g) on the last axis, a·GELU(g) (exact erf GELU), then `net.2` = Linear(4C → C).
public final class GatedFeedForward: Module, @unchecked Sendable {
    let projection: Linear
    let output: Linear
    override public var parameterKeys: [String: String] { ["projection": "net.0.proj", "output": "net.2"] }

    public init<G: RandomNumberGenerator>(width: Int, multiplier: Int = 4, using generator: inout G) {
        projection = Linear(inputFeatures: width, outputFeatures: 2 * multiplier * width, using: &generator)
        output = Linear(inputFeatures: multiplier * width, outputFeatures: width, using: &generator)
    }

    /// - Parameter x: `[N, L, C]`. - Returns: `[N, L, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let projected = projection(x)
        let axis = projected.rank - 1, inner = projected.shape[axis] / 2
        let value = projected.sliced(alongAxis: axis, from: 0, count: inner)
        let gate = projected.sliced(alongAxis: axis, from: inner, count: inner)
        return output(value * gate.gelu())
    }
}

/// `BasicTransformerBlockV2`: x += attn1(LN1(x)); x += attn2(LN2(x), context); x += ff(LN3(x)),
/// LayerNorm eps 1e-5 (keys `attn1`, `attn2`, `ff`, `norm1…3`).
public final class BasicTransformerBlock: Module, @unchecked Sendable {
    let attn1: CrossAttention
    let ff: GatedFeedForward
    let attn2: CrossAttention
    let norm1: LayerNorm
    let norm2: LayerNorm
    let norm3: LayerNorm

    public init<G: RandomNumberGenerator>(width: Int, heads: Int, headWidth: Int, contextWidth: Int?, using generator: inout G) {
        attn1 = CrossAttention(queryWidth: width, heads: heads, headWidth: headWidth, using: &generator)
        ff = GatedFeedForward(width: width, using: &generator)
        attn2 = CrossAttention(queryWidth: width, contextWidth: contextWidth, heads: heads, headWidth: headWidth, using: &generator)
        norm1 = LayerNorm(features: width)
        norm2 = LayerNorm(features: width)
        norm3 = LayerNorm(features: width)
    }

    /// - Parameters:
    ///   - x: `[N, L, C]`.
    ///   - context: `[N, M, D]` (nil: attn2 attends to x itself, as the reference).
    public func callAsFunction(_ x: Tensor, context: Tensor?) -> Tensor {
        var h = attn1(norm1(x)) + x
        h = attn2(norm2(h), context: context) + h
        return ff(norm3(h)) + h
    }
}

/// `SpatialTransformerV2` with linear projections (`use_linear=True`, SD 2.x):
///
///     h = GroupNorm(32, C, eps 1e-6)(x) → [N, H·W, C] → proj_in (Linear)
///     h = transformer_blocks(h, context)
///     return proj_out(h) (Linear, zero-initialized) → [N, H, W, C]  + x
///
/// Keys: `norm`, `proj_in`, `transformer_blocks.<i>`, `proj_out`. Matches: IceClear/StableSR
/// 398ee93 `ldm/modules/attention.py` (disable_self_attn False, dropout 0). The 1×1-convolution
/// variant (`use_linear=False`, SD 1.x) is not implemented.
public final class SpatialTransformer: Module, LatentLayer, @unchecked Sendable {
    let norm: GroupNorm
    let projIn: Linear
    let transformerBlocks: [BasicTransformerBlock]
    let projOut: Linear
    override public var parameterKeys: [String: String] {
        ["projIn": "proj_in", "transformerBlocks": "transformer_blocks", "projOut": "proj_out"]
    }

    /// - Parameters:
    ///   - channels: C = heads × headWidth (a multiple of 32).
    ///   - depth: transformer blocks.
    ///   - contextWidth: the cross-attention context's width.
    public init<G: RandomNumberGenerator>(channels: Int, heads: Int, headWidth: Int, depth: Int = 1, contextWidth: Int?,
                                          zeroInitialized: Bool = true, using generator: inout G) {
        precondition(heads * headWidth == channels, "\(heads) heads of \(headWidth) do not make \(channels) channels")
        norm = GroupNorm(groups: 32, channels: channels, epsilon: 1e-6)
        projIn = Linear(inputFeatures: channels, outputFeatures: channels, using: &generator)
        transformerBlocks = (0..<depth).map { _ in
            BasicTransformerBlock(width: channels, heads: heads, headWidth: headWidth, contextWidth: contextWidth, using: &generator)
        }
        projOut = Linear(inputFeatures: channels, outputFeatures: channels, using: &generator)
        if zeroInitialized { projOut.zeroParameters() }
    }

    /// - Parameters:
    ///   - x: `[N, H, W, C]`.
    ///   - context: `[N, M, D]`.
    /// - Returns: `[N, H, W, C]`.
    public func callAsFunction(_ x: Tensor, context: Tensor?) -> Tensor {
        let (n, height, width, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var h = projIn(norm(x).reshaped(to: [n, height * width, c]))
        for block in transformerBlocks { h = block(h, context: context) }
        return projOut(h).reshaped(to: [n, height, width, c]) + x
    }

    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor { self(x, context: inputs.context) }
}
