import Foundation

extension Tensor {
    /// Batched matrix product of `[..., m, k]` and `[..., k, n]` → `[..., m, n]`. Leading (batch)
    /// dimensions must be equal, or one operand may be a plain matrix shared by every batch.
    /// Computed with OpenBLAS `sgemm`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(ka == kb, "matmul inner dimensions differ: \(a.shape) and \(b.shape)")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchA == batchB || batchA.isEmpty || batchB.isEmpty,
                     "matmul batch dimensions differ: \(a.shape) and \(b.shape)")
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batches = batchShape.reduce(1, *)
        let strideA = batchA.isEmpty ? 0 : m * ka, strideB = batchB.isEmpty ? 0 : ka * n
        let result = Tensor.filled(shape: batchShape + [m, n]) { out in
            let pa = a.storage.pointer, pb = b.storage.pointer
            if strideB == 0 && !transposeA {
                // One shared right operand: a single large GEMM over all batch rows.
                BLAS.gemm(pa, pb, out, m: batches * m, n: n, k: ka, transposeB: transposeB)
            } else {
                for i in 0..<batches {
                    BLAS.gemm(pa + i * strideA, pb + i * strideB, out + i * m * n, m: m, n: n, k: ka,
                              transposeA: transposeA, transposeB: transposeB)
                }
            }
        }
        return recording(result, inputs: [a, b]) { g, needs in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if needs[0] {
                // dA = g·Bᵀ (or its transpose), summed over batches when A was shared.
                var d = transposeA ? matmul(b, g, transposeA: transposeB, transposeB: true)
                                   : matmul(g, b, transposeB: !transposeB)
                if batchA.isEmpty && !batchB.isEmpty { d = d.sum(alongAxes: Array(0..<batchB.count)) }
                ga = d
            }
            if needs[1] {
                if batchB.isEmpty && !batchA.isEmpty && !transposeA {
                    // Shared B: flatten the batch rows of A and g into one GEMM.
                    let a2 = a.reshaped(to: [batches * m, ka]), g2 = g.reshaped(to: [batches * m, n])
                    gb = transposeB ? matmul(g2, a2, transposeA: true) : matmul(a2, g2, transposeA: true)
                } else {
                    var d = transposeB ? matmul(g, a, transposeA: true, transposeB: transposeA)
                                       : matmul(a, g, transposeA: !transposeA)
                    if batchB.isEmpty && !batchA.isEmpty { d = d.sum(alongAxes: Array(0..<batchA.count)) }
                    gb = d
                }
            }
            return [ga, gb]
        }
    }
}
