import Foundation
import SRSupport

extension Tensor {
    /// Softmax over the last axis (max-subtracted, as PyTorch's `softmax(dim=-1)`), of
    /// `scale · x` when a scale is given (fused: attention scores need no separate pass).
    public func softmax(scale: Float = 1) -> Tensor {
        precondition(scale > 0, "softmax scale must be positive, got \(scale)")
        let c = shape[rank - 1], rows = count / Swift.max(c, 1)
        let x = self
        let y = Tensor.filled(shape: shape) { out in
            let src = storage.pointer
            parallelChunks(rows, grain: Swift.max(1, (1 << 13) / Swift.max(c, 1))) { range in
                for r in range {
                    let i = src + r * c, o = out + r * c
                    var m = -Float.infinity
                    for k in 0..<c { m = Swift.max(m, i[k]) }
                    let shift = m * scale
                    for k in 0..<c { o[k] = VectorMath.exp(i[k] * scale - shift) }
                    var s: Float = 0
                    for k in 0..<c { s += o[k] }
                    let inv = 1 / s
                    for k in 0..<c { o[k] *= inv }
                }
            }
        }
        return Tensor.recording(y, inputs: [x]) { g, _ in
            // dx = y ⊙ (g − Σ g⊙y)
            [Tensor.filled(shape: y.shape) { out in
                let yp = y.storage.pointer, gp = g.storage.pointer
                parallelChunks(rows, grain: Swift.max(1, (1 << 13) / Swift.max(c, 1))) { range in
                    for r in range {
                        let yr = yp + r * c, gr = gp + r * c, o = out + r * c
                        var dot: Float = 0
                        for k in 0..<c { dot += yr[k] * gr[k] }
                        for k in 0..<c { o[k] = scale * yr[k] * (gr[k] - dot) }
                    }
                }
            }]
        }
    }

    /// Multi-head scaled dot-product attention, as PyTorch's `F.scaled_dot_product_attention` on
    /// heads split from the feature axis (`nn.MultiheadAttention` layout without projections).
    ///
    /// - Parameters:
    ///   - query: `[B, Lq, heads·d]`; key: `[B, Lk, heads·d]`; value: `[B, Lk, heads·dv]`.
    ///   - heads: number of heads.
    /// - Returns: `[B, Lq, heads·dv]`, softmax(q·kᵀ/√d)·v per head.
    ///
    /// Self-attention over an NHWC feature map passes `x.reshaped(to: [N, H·W, C])` as all three;
    /// cross-attention (latent-diffusion U-Nets) passes a separate key/value sequence.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int = 1) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && value.rank == 3, "attention expects [B, L, D] tensors")
        let (b, lq, dq) = (query.shape[0], query.shape[1], query.shape[2])
        let (lk, dk, dv) = (key.shape[1], key.shape[2], value.shape[2])
        precondition(key.shape[0] == b && value.shape[0] == b && value.shape[1] == lk && dk == dq,
                     "attention shapes disagree: q \(query.shape), k \(key.shape), v \(value.shape)")
        precondition(dq % heads == 0 && dv % heads == 0, "features \(dq)/\(dv) do not split into \(heads) heads")
        let d = dq / heads
        func split(_ t: Tensor, _ length: Int, _ features: Int) -> Tensor {
            heads == 1 ? t : t.reshaped(to: [b, length, heads, features / heads]).permuted([0, 2, 1, 3])
        }
        let q = split(query, lq, dq), k = split(key, lk, dk), v = split(value, lk, dv)
        let out = matmul(matmul(q, k, transposeB: true).softmax(scale: 1 / Float(d).squareRoot()), v)
        return heads == 1 ? out : out.permuted([0, 2, 1, 3]).reshaped(to: [b, lq, dv])
    }
}
