/// Small dense symmetric-matrix routines in Double (cyclic Jacobi eigen decomposition).
enum SymmetricMatrix {
    /// Eigenvalues and eigenvectors (columns of `vectors`, row-major n×n) of a symmetric matrix.
    static func eigen(_ input: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = input
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
            if off < 1e-30 { break }
            for p in 0..<(n - 1) {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) < 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }

    /// Moore–Penrose pseudo-inverse of a symmetric matrix; eigenvalues below `1e-15·max|λ|` are
    /// treated as zero (NumPy `pinv`'s default `rcond`).
    static func pseudoInverse(_ matrix: [Double], size n: Int) -> [Double] {
        let (values, vectors) = eigen(matrix, size: n)
        let cutoff = 1e-15 * (values.map { abs($0) }.max() ?? 0)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n where abs(values[k]) > cutoff {
            let inv = 1 / values[k]
            for i in 0..<n {
                let vik = vectors[i * n + k] * inv
                for j in 0..<n { out[i * n + j] += vik * vectors[j * n + k] }
            }
        }
        return out
    }
}
