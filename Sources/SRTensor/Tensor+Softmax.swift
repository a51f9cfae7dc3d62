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
                    let shift = VectorMath.maximum(i, count: c) * scale
                    let inv = 1 / VectorMath.exponentials(i, into: o, count: c, scale: scale, shift: shift)
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
                        let dot = VectorMath.dot(yr, gr, count: c)
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
        let out = scaledDotProductAttention(query: q.reshaped(to: [b * heads, lq, d]), key: k.reshaped(to: [b * heads, lk, d]),
                                            value: v.reshaped(to: [b * heads, lk, dv / heads]), scale: 1 / Float(d).squareRoot())
        return heads == 1 ? out : out.reshaped(to: [b, heads, lq, dv / heads]).permuted([0, 2, 1, 3]).reshaped(to: [b, lq, dv])
    }

    /// softmax(scale · q·kᵀ)·v for `[B, Lq, d]`, `[B, Lk, d]`, `[B, Lk, dv]` → `[B, Lq, dv]` (heads
    /// already split into the batch axis).
    ///
    /// When no input is tracked for gradients (inference), the scores are computed in blocks of
    /// query rows that stay in cache (GEMM, softmax, GEMM per block, blocks across the cores)
    /// instead of materializing the whole Lq×Lk matrix; with gradients it records the graph of
    /// matmul → softmax → matmul.
    public static func scaledDotProductAttention(query q: Tensor, key k: Tensor, value v: Tensor, scale: Float) -> Tensor {
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3 && q.shape[0] == k.shape[0] && k.shape[0] == v.shape[0]
                     && q.shape[2] == k.shape[2] && k.shape[1] == v.shape[1], "attention shapes: \(q.shape), \(k.shape), \(v.shape)")
        let tracked = GradientMode.isRecording && (q.isTracked || k.isTracked || v.isTracked)
        if tracked { return matmul(matmul(q, k, transposeB: true).softmax(scale: scale), v) }
        let (batches, lq, d) = (q.shape[0], q.shape[1], q.shape[2])
        let (lk, dv) = (k.shape[1], v.shape[2])
        let block = 64
        let blocksPerBatch = (lq + block - 1) / block
        return Tensor.filled(shape: [batches, lq, dv]) { out in
            let qp = q.storage.pointer, kp = k.storage.pointer, vp = v.storage.pointer
            parallelChunks(batches * blocksPerBatch, grain: 1) { range in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: block * lk)
                var inverses = [Float](repeating: 0, count: block)
                defer { scores.deallocate() }
                for index in range {
                    let b = index / blocksPerBatch, start = (index % blocksPerBatch) * block
                    let rows = Swift.min(block, lq - start)
                    BLAS.gemm(qp + (b * lq + start) * d, kp + b * lk * d, scores, m: rows, n: lk, k: d, transposeB: true)
                    for r in 0..<rows {
                        let row = scores + r * lk
                        let shift = VectorMath.maximum(row, count: lk) * scale
                        inverses[r] = 1 / VectorMath.exponentials(row, into: row, count: lk, scale: scale, shift: shift)
                    }
                    // The normalization is applied to the dv-wide output rows, not the lk-wide scores.
                    let output = out + (b * lq + start) * dv
                    BLAS.gemm(scores, vp + b * lk * dv, output, m: rows, n: dv, k: lk)
                    for r in 0..<rows {
                        let inverse = inverses[r], row = output + r * dv
                        for c in 0..<dv { row[c] *= inverse }
                    }
                }
            }
        }
    }
}
