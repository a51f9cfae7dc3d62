import SRSupport

/// Group normalization of NHWC data, optionally followed by SiLU, forward and backward.
///
/// Each pass is one OpenMP region (`parallelTeam`): every thread sums its own range of pixels
/// (per channel, Float over runs of 64 pixels, Double across runs and threads), the team meets at
/// a barrier, every thread turns the totals into per-channel coefficients, and then applies them
/// to the same pixels, still in its core's cache. Against the previous two regions per batch
/// element (statistics, then normalization) and a separate SiLU pass, this saves the regions'
/// start-up and barrier spinning — a profile of the 128-channel 64² forward pass had OpenMP's
/// spinning at half of its time — and, with SiLU fused, a read and a write of the activation.
///
/// Numerics are those of PyTorch's `F.group_norm` (population variance, ε inside the root;
/// statistics in Double here) and of `x · σ(x)` for SiLU, with `VectorMath.exp`.
enum GroupNormKernel {
    struct Shape {
        let batch: Int, pixels: Int, channels: Int, groups: Int
        var perGroup: Int { channels / groups }
        /// Elements per (batch element, group): the count of each mean.
        var groupSize: Double { Double(pixels * perGroup) }
    }

    /// Mean and 1/√(variance + ε) per (batch element, group), kept for the backward pass.
    struct Statistics {
        var means: [Double]
        var inverseDeviations: [Double]
    }

    /// Threads for `shape`: one per 32 K elements at least, at most `ComputeThreads.count`.
    static func threads(_ shape: Shape) -> Int {
        Swift.min(ComputeThreads.count, Swift.max(1, shape.batch * shape.pixels * shape.channels / (1 << 15)))
    }

    /// The pixels of each batch element that thread `thread` of `team` owns, in both phases.
    @inline(__always)
    static func pixelRange(_ shape: Shape, thread: Int, team: Int) -> Range<Int> {
        (shape.pixels * thread / team)..<(shape.pixels * (thread + 1) / team)
    }

    /// Adds Σ a and Σ a·b (Σ a² when `b` is nil) over `pixels` rows of `c` channels into `sums`
    /// and `products` (Double), accumulating in Float over runs of 64 pixels.
    @inline(__always)
    static func accumulate(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>?, pixels: Range<Int>, channels c: Int,
                           scratch: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Double>, products: UnsafeMutablePointer<Double>) {
        let s1 = scratch, s2 = scratch + c
        var p = pixels.lowerBound
        while p < pixels.upperBound {
            let runEnd = Swift.min(p + 64, pixels.upperBound)
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
            for k in 0..<c { sums[k] += Double(s1[k]); products[k] += Double(s2[k]) }
            p = runEnd
        }
    }

    /// y = x·a + shift per channel, then SiLU when `silu`, over `pixels` rows of `c` channels.
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, pixels: Range<Int>, channels c: Int,
                          a: UnsafePointer<Float>, shift: UnsafePointer<Float>, silu: Bool) {
        typealias V = SIMD8<Float>
        let vectorChannels = c / 8 * 8
        for p in pixels {
            let i = x + p * c, o = y + p * c
            for k0 in stride(from: 0, to: vectorChannels, by: 8) {
                let v = UnsafeRawPointer(i + k0).loadUnaligned(as: V.self) * UnsafeRawPointer(a + k0).loadUnaligned(as: V.self)
                    + UnsafeRawPointer(shift + k0).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(o + k0).storeBytes(of: silu ? v / (1 + VectorMath.exp(-v)) : v, as: V.self)
            }
            for k in vectorChannels..<c {
                let v = i[k] * a[k] + shift[k]
                o[k] = silu ? v / (1 + VectorMath.exp(-v)) : v
            }
        }
    }

    /// y = GroupNorm(x)·γ + β (then SiLU when `silu`) for NHWC `x`; returns the statistics.
    static func forward(_ x: UnsafePointer<Float>, scale gamma: UnsafePointer<Float>, offset beta: UnsafePointer<Float>,
                        epsilon: Float, shape s: Shape, silu: Bool, output y: UnsafeMutablePointer<Float>) -> Statistics {
        let (n, c, groups, perGroup) = (s.batch, s.channels, s.groups, s.perGroup)
        let threads = threads(s)
        // partial[thread][batch][sums c | squares c]
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads * n * 2 * c)
        partial.initialize(repeating: 0, count: threads * n * 2 * c)
        let means = UnsafeMutablePointer<Double>.allocate(capacity: n * groups)
        let deviations = UnsafeMutablePointer<Double>.allocate(capacity: n * groups)
        defer { partial.deallocate(); means.deallocate(); deviations.deallocate() }
        parallelTeam(threads) { t, team in
            let range = pixelRange(s, thread: t, team: team)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n * c)
            defer { scratch.deallocate() }
            for b in 0..<n {
                let d = partial + (t * n + b) * 2 * c
                accumulate(x + b * s.pixels * c, nil, pixels: range, channels: c, scratch: scratch, sums: d, products: d + c)
            }
            teamBarrier(team)
            // Coefficients a = γ/σ, shift = β − mean·a per (batch, channel), by every thread alike.
            let a = scratch, shift = scratch + n * c
            for b in 0..<n {
                for g in 0..<groups {
                    var sum = 0.0, squares = 0.0
                    for u in 0..<team {
                        let d = partial + (u * n + b) * 2 * c
                        for k in (g * perGroup)..<((g + 1) * perGroup) { sum += d[k]; squares += d[c + k] }
                    }
                    let mean = sum / s.groupSize
                    let variance = Swift.max(squares / s.groupSize - mean * mean, 0)
                    let inverse = 1 / (variance + Double(epsilon)).squareRoot()
                    if t == 0 { means[b * groups + g] = mean; deviations[b * groups + g] = inverse }
                    for k in (g * perGroup)..<((g + 1) * perGroup) {
                        a[b * c + k] = Float(inverse) * gamma[k]
                        shift[b * c + k] = beta[k] - Float(mean) * a[b * c + k]
                    }
                }
            }
            for b in 0..<n {
                let offset = b * s.pixels * c
                normalize(x + offset, y + offset, pixels: range, channels: c, a: a + b * c, shift: shift + b * c, silu: silu)
            }
        }
        return Statistics(means: Array(UnsafeBufferPointer(start: means, count: n * groups)),
                          inverseDeviations: Array(UnsafeBufferPointer(start: deviations, count: n * groups)))
    }

    /// The gradients of `forward` for the output gradient `dy`: ∂L/∂x into `inputGradient` (when
    /// given), and ∂L/∂γ, ∂L/∂β (returned, `[C]` each). With `silu`, the normalized values are
    /// recomputed from x and the statistics, and dy is first multiplied by SiLU's derivative.
    static func backward(_ x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, scale gamma: UnsafePointer<Float>,
                         offset beta: UnsafePointer<Float>, statistics: Statistics, shape s: Shape, silu: Bool,
                         inputGradient dx: UnsafeMutablePointer<Float>?) -> (scale: [Double], offset: [Double]) {
        let (n, c, groups, perGroup) = (s.batch, s.channels, s.groups, s.perGroup)
        let threads = threads(s)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: threads * n * 2 * c)
        partial.initialize(repeating: 0, count: threads * n * 2 * c)
        // With SiLU: the gradient at the normalized values, dy · SiLU′(GroupNorm(x)).
        let inner = silu ? UnsafeMutablePointer<Float>.allocate(capacity: n * s.pixels * c) : nil
        defer { partial.deallocate(); inner?.deallocate() }
        var dGamma = [Double](repeating: 0, count: c), dBeta = [Double](repeating: 0, count: c)
        dGamma.withUnsafeMutableBufferPointer { dGamma in dBeta.withUnsafeMutableBufferPointer { dBeta in
            parallelTeam(threads) { t, team in
                let range = pixelRange(s, thread: t, team: team)
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 3 * c)
                defer { scratch.deallocate() }
                for b in 0..<n {
                    let offset = b * s.pixels * c
                    var gradient = dy + offset
                    if let inner {
                        let a = scratch, shift = scratch + c
                        for g in 0..<groups {
                            let mean = statistics.means[b * groups + g], inverse = statistics.inverseDeviations[b * groups + g]
                            for k in (g * perGroup)..<((g + 1) * perGroup) {
                                a[k] = Float(inverse) * gamma[k]
                                shift[k] = beta[k] - Float(mean) * a[k]
                            }
                        }
                        siluGradient(x + offset, dy + offset, inner + offset, pixels: range, channels: c, a: a, shift: shift)
                        gradient = UnsafePointer(inner + offset)
                    }
                    let d = partial + (t * n + b) * 2 * c
                    accumulate(gradient, x + offset, pixels: range, channels: c, scratch: scratch, sums: d, products: d + c)
                }
                teamBarrier(team)
                let alpha = scratch, betaTerm = scratch + c, gammaTerm = scratch + 2 * c
                for b in 0..<n {
                    for g in 0..<groups {
                        let mean = statistics.means[b * groups + g], inverse = statistics.inverseDeviations[b * groups + g]
                        var weighted = 0.0, centered = 0.0
                        for k in (g * perGroup)..<((g + 1) * perGroup) {
                            var sdy = 0.0, sdyx = 0.0
                            for u in 0..<team { let d = partial + (u * n + b) * 2 * c; sdy += d[k]; sdyx += d[c + k] }
                            let gk = Double(gamma[k])
                            weighted += gk * sdy
                            centered += gk * inverse * (sdyx - mean * sdy)
                            if t == 0 { dGamma[k] += inverse * (sdyx - mean * sdy); dBeta[k] += sdy }
                        }
                        for k in (g * perGroup)..<((g + 1) * perGroup) {
                            alpha[k] = Float(inverse * Double(gamma[k]))
                            betaTerm[k] = Float(-inverse * inverse * centered / s.groupSize)
                            gammaTerm[k] = Float(inverse * inverse * mean * centered / s.groupSize - inverse * weighted / s.groupSize)
                        }
                    }
                    guard let dx else { continue }
                    let offset = b * s.pixels * c
                    let gradient = inner.map { UnsafePointer($0 + offset) } ?? dy + offset
                    let input = x + offset, output = dx + offset
                    for p in range {
                        let i = input + p * c, d = gradient + p * c, o = output + p * c
                        for k in 0..<c { o[k] = d[k] * alpha[k] + i[k] * betaTerm[k] + gammaTerm[k] }
                    }
                }
            }
        } }
        return (dGamma, dBeta)
    }

    /// inner = dy · SiLU′(x·a + shift), SiLU′(v) = σ(v)(1 + v(1 − σ(v))), over `pixels` rows.
    @inline(__always)
    static func siluGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ inner: UnsafeMutablePointer<Float>,
                             pixels: Range<Int>, channels c: Int, a: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        typealias V = SIMD8<Float>
        let vectorChannels = c / 8 * 8
        for p in pixels {
            let i = x + p * c, d = dy + p * c, o = inner + p * c
            for k0 in stride(from: 0, to: vectorChannels, by: 8) {
                let v = UnsafeRawPointer(i + k0).loadUnaligned(as: V.self) * UnsafeRawPointer(a + k0).loadUnaligned(as: V.self)
                    + UnsafeRawPointer(shift + k0).loadUnaligned(as: V.self)
                let sigma = 1 / (1 + VectorMath.exp(-v))
                let derivative = sigma * (1 + v * (1 - sigma))
                UnsafeMutableRawPointer(o + k0).storeBytes(of: UnsafeRawPointer(d + k0).loadUnaligned(as: V.self) * derivative, as: V.self)
            }
            for k in vectorChannels..<c {
                let v = i[k] * a[k] + shift[k]
                let sigma = 1 / (1 + VectorMath.exp(-v))
                o[k] = d[k] * sigma * (1 + v * (1 - sigma))
            }
        }
    }
}
