import Foundation
import SRSupport

extension Tensor {
    /// Group normalization of an NHWC tensor (Wu & He 2018), as PyTorch's `F.group_norm`.
    ///
    /// - Parameters:
    ///   - groups: number of channel groups (divides C).
    ///   - scale: γ, `[C]`; offset: β, `[C]`.
    /// - Returns: `(x − mean) / √(var + ε) · γ + β` with mean and (population) variance over
    ///   H, W and the channels of each group, per batch element. Statistics in Double.
    public func groupNormalized(groups: Int, scale: Tensor, offset: Tensor, epsilon: Float = 1e-5) -> Tensor {
        precondition(rank == 4, "groupNormalized expects NHWC, got \(shape)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        precondition(groups > 0 && c % groups == 0, "\(c) channels do not split into \(groups) groups")
        precondition(scale.shape == [c] && offset.shape == [c], "group norm γ/β must be [\(c)], got \(scale.shape), \(offset.shape)")
        let pixels = h * w, perGroup = c / groups
        let m = Double(pixels * perGroup)
        var means = [Double](repeating: 0, count: n * groups), rstds = [Double](repeating: 0, count: n * groups)
        let x = self
        let result = Tensor.filled(shape: shape) { out in
            let src = storage.pointer, gamma = scale.storage.pointer, beta = offset.storage.pointer
            for b in 0..<n {
                let (s1, s2) = channelSums(src + b * pixels * c, pixels: pixels, channels: c, second: nil)
                var a = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
                for g in 0..<groups {
                    var sum = 0.0, squares = 0.0
                    for k in (g * perGroup)..<((g + 1) * perGroup) { sum += s1[k]; squares += s2[k] }
                    let mean = sum / m
                    let variance = Swift.max(squares / m - mean * mean, 0)
                    let rstd = 1 / (variance + Double(epsilon)).squareRoot()
                    means[b * groups + g] = mean
                    rstds[b * groups + g] = rstd
                    for k in (g * perGroup)..<((g + 1) * perGroup) {
                        a[k] = Float(rstd) * gamma[k]
                        shift[k] = beta[k] - Float(mean) * a[k]
                    }
                }
                let input = src + b * pixels * c, output = out + b * pixels * c
                a.withUnsafeBufferPointer { ap in shift.withUnsafeBufferPointer { sp in
                    parallelChunks(pixels, grain: Swift.max(1, (1 << 14) / c)) { range in
                        for p in range {
                            let i = input + p * c, o = output + p * c
                            for k in 0..<c { o[k] = i[k] * ap[k] + sp[k] }
                        }
                    }
                } }
            }
        }
        return Tensor.recording(result, inputs: [x, scale, offset]) { g, needs in
            let src = x.storage.pointer, dy = g.storage.pointer, gamma = scale.storage.pointer
            var dGamma = [Double](repeating: 0, count: c), dBeta = [Double](repeating: 0, count: c)
            let dx = Tensor.filled(shape: x.shape) { out in
                for b in 0..<n {
                    let input = src + b * pixels * c, grad = dy + b * pixels * c
                    let (sdy, sdyx) = channelSums(grad, pixels: pixels, channels: c, second: input)
                    var alpha = [Float](repeating: 0, count: c), beta = [Float](repeating: 0, count: c), gammaTerm = [Float](repeating: 0, count: c)
                    for gi in 0..<groups {
                        let mean = means[b * groups + gi], rstd = rstds[b * groups + gi]
                        var a = 0.0, bsum = 0.0
                        for k in (gi * perGroup)..<((gi + 1) * perGroup) {
                            let gk = Double(gamma[k])
                            a += gk * sdy[k]
                            bsum += gk * rstd * (sdyx[k] - mean * sdy[k])
                            dGamma[k] += rstd * (sdyx[k] - mean * sdy[k])
                            dBeta[k] += sdy[k]
                        }
                        for k in (gi * perGroup)..<((gi + 1) * perGroup) {
                            alpha[k] = Float(rstd * Double(gamma[k]))
                            beta[k] = Float(-rstd * rstd * bsum / m)
                            gammaTerm[k] = Float(rstd * rstd * mean * bsum / m - rstd * a / m)
                        }
                    }
                    let output = out + b * pixels * c
                    alpha.withUnsafeBufferPointer { al in beta.withUnsafeBufferPointer { be in gammaTerm.withUnsafeBufferPointer { ga in
                        parallelChunks(pixels, grain: Swift.max(1, (1 << 14) / c)) { range in
                            for p in range {
                                let i = input + p * c, d = grad + p * c, o = output + p * c
                                for k in 0..<c { o[k] = d[k] * al[k] + i[k] * be[k] + ga[k] }
                            }
                        }
                    } } }
                }
            }
            return [needs[0] ? dx : nil,
                    needs[1] ? Tensor(shape: [c], values: dGamma.map(Float.init)) : nil,
                    needs[2] ? Tensor(shape: [c], values: dBeta.map(Float.init)) : nil]
        }
    }

    /// Layer normalization over the last axis, as PyTorch's `F.layer_norm(x, [C], γ, β, ε)`.
    public func layerNormalized(scale: Tensor, offset: Tensor, epsilon: Float = 1e-5) -> Tensor {
        let c = shape[rank - 1]
        precondition(scale.shape == [c] && offset.shape == [c], "layer norm γ/β must be [\(c)]")
        let centered = self - mean(alongAxes: [-1], keepingDimensions: true)
        let variance = centered.squared().mean(alongAxes: [-1], keepingDimensions: true)
        return centered * (variance + epsilon).rsqrt() * scale + offset
    }
}

/// Per-channel sums over pixels of an `[pixels, channels]` block: Σ a and Σ a² (or Σ a·b when
/// `second` is given), accumulated in Float over runs of 64 pixels and in Double across runs,
/// split across cores.
func channelSums(_ a: UnsafePointer<Float>, pixels: Int, channels c: Int, second b: UnsafePointer<Float>?) -> ([Double], [Double]) {
    let threads = Swift.min(Parallelism.threadCount, Swift.max(1, pixels * c / (1 << 14)))
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c * threads)
    partial.initialize(repeating: 0, count: 2 * c * threads)
    defer { partial.deallocate() }
    parallelForEach(threads) { t in
        let s1 = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
        defer { s1.deallocate() }
        let s2 = s1 + c
        let d1 = partial + 2 * c * t, d2 = d1 + c
        let start = pixels * t / threads, end = pixels * (t + 1) / threads
        var p = start
        while p < end {
            let runEnd = Swift.min(p + 64, end)
            s1.initialize(repeating: 0, count: 2 * c)
            if let b {
                for q in p..<runEnd {
                    let row = a + q * c, other = b + q * c
                    for k in 0..<c { s1[k] += row[k]; s2[k] += row[k] * other[k] }
                }
            } else {
                for q in p..<runEnd {
                    let row = a + q * c
                    for k in 0..<c { s1[k] += row[k]; s2[k] += row[k] * row[k] }
                }
            }
            for k in 0..<c { d1[k] += Double(s1[k]); d2[k] += Double(s2[k]) }
            p = runEnd
        }
    }
    var sums = [Double](repeating: 0, count: c), products = [Double](repeating: 0, count: c)
    for t in 0..<threads {
        for k in 0..<c { sums[k] += partial[2 * c * t + k]; products[k] += partial[2 * c * t + c + k] }
    }
    return (sums, products)
}
