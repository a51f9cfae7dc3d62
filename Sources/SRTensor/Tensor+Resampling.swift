import Foundation
import SRSupport

/// Per-axis taps of a separable resampling: output i = Σ_t weights[i·taps + t] · input[indices[i·taps + t]].
struct AxisTaps: Sendable {
    let outputLength: Int
    let taps: Int
    var indices: [Int]
    var weights: [Float]

    /// Nearest neighbour by an integer factor (PyTorch `mode='nearest'`, scale_factor = factor).
    static func nearest(input: Int, factor: Int) -> AxisTaps {
        AxisTaps(outputLength: input * factor, taps: 1, indices: (0..<(input * factor)).map { $0 / factor },
                 weights: [Float](repeating: 1, count: input * factor))
    }

    /// Bilinear, `align_corners=False`, output size given (PyTorch `upsample_bilinear2d`).
    static func bilinear(input: Int, output: Int) -> AxisTaps {
        let scale = Float(input) / Float(output)
        var taps = AxisTaps(outputLength: output, taps: 2, indices: [], weights: [])
        for i in 0..<output {
            let real = Swift.max(scale * (Float(i) + 0.5) - 0.5, 0)
            let x0 = Swift.min(Int(real), input - 1)
            let x1 = x0 < input - 1 ? x0 + 1 : x0
            let l1 = Swift.min(Swift.max(real - Float(x0), 0), 1)
            taps.indices += [x0, x1]
            taps.weights += [1 - l1, l1]
        }
        return taps
    }

    /// Average pooling with kernel `k` and stride `k`, no padding (PyTorch `avg_pool2d(k)`).
    static func average(input: Int, kernel: Int) -> AxisTaps {
        let output = input / kernel
        var taps = AxisTaps(outputLength: output, taps: kernel, indices: [], weights: [])
        for i in 0..<output { for t in 0..<kernel { taps.indices.append(i * kernel + t); taps.weights.append(1 / Float(kernel)) } }
        return taps
    }
}

extension Tensor {
    /// Applies row taps (H axis) then column taps (W axis) to an NHWC tensor.
    private func resampledNHWC(rows: AxisTaps, columns: AxisTaps) -> Tensor {
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let oh = rows.outputLength, ow = columns.outputLength
        let x = self
        let result = Tensor.filled(shape: [n, oh, ow, c]) { out in
            let src = storage.pointer
            parallelChunks(n * oh, grain: 1) { range in
                var line = [Float](repeating: 0, count: w * c)
                for row in range {
                    let b = row / oh, y = row % oh
                    for i in 0..<(w * c) { line[i] = 0 }
                    for t in 0..<rows.taps {
                        let weight = rows.weights[y * rows.taps + t]
                        if weight == 0 { continue }
                        let from = src + (b * h + rows.indices[y * rows.taps + t]) * w * c
                        for i in 0..<(w * c) { line[i] += weight * from[i] }
                    }
                    let o = out + row * ow * c
                    for xo in 0..<ow {
                        for k in 0..<c { o[xo * c + k] = 0 }
                        for t in 0..<columns.taps {
                            let weight = columns.weights[xo * columns.taps + t]
                            let from = columns.indices[xo * columns.taps + t] * c
                            for k in 0..<c { o[xo * c + k] += weight * line[from + k] }
                        }
                    }
                }
            }
        }
        return Tensor.recording(result, inputs: [x]) { g, _ in
            // The adjoint: scatter the gradient back through the same taps.
            [Tensor.filled(shape: x.shape) { out in
                out.initialize(repeating: 0, count: n * h * w * c)
                let gp = g.storage.pointer
                parallelChunks(n, grain: 1) { batches in
                    var line = [Float](repeating: 0, count: w * c)
                    for b in batches {
                        for y in 0..<oh {
                            for i in 0..<(w * c) { line[i] = 0 }
                            let grow = gp + (b * oh + y) * ow * c
                            for xo in 0..<ow {
                                for t in 0..<columns.taps {
                                    let weight = columns.weights[xo * columns.taps + t]
                                    let to = columns.indices[xo * columns.taps + t] * c
                                    for k in 0..<c { line[to + k] += weight * grow[xo * c + k] }
                                }
                            }
                            for t in 0..<rows.taps {
                                let weight = rows.weights[y * rows.taps + t]
                                if weight == 0 { continue }
                                let to = out + (b * h + rows.indices[y * rows.taps + t]) * w * c
                                for i in 0..<(w * c) { to[i] += weight * line[i] }
                            }
                        }
                    }
                }
            }]
        }
    }

    /// Nearest-neighbour upsampling of NHWC by an integer factor (PyTorch `nn.Upsample(scale_factor=f)`).
    public func upsampledNearest(factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampledNearest expects NHWC and a positive factor")
        return resampledNHWC(rows: .nearest(input: shape[1], factor: factor), columns: .nearest(input: shape[2], factor: factor))
    }

    /// Bilinear resizing of NHWC to `height`×`width` (PyTorch `interpolate(mode='bilinear', align_corners=False)`).
    public func resizedBilinear(height: Int, width: Int) -> Tensor {
        precondition(rank == 4 && height > 0 && width > 0, "resizedBilinear expects NHWC and a positive size")
        return resampledNHWC(rows: .bilinear(input: shape[1], output: height), columns: .bilinear(input: shape[2], output: width))
    }

    /// Average pooling of NHWC with a k×k window and stride k (PyTorch `avg_pool2d(k)`).
    public func averagePooled(kernel: Int) -> Tensor {
        precondition(rank == 4 && kernel >= 1 && shape[1] >= kernel && shape[2] >= kernel, "averagePooled: bad kernel for \(shape)")
        return resampledNHWC(rows: .average(input: shape[1], kernel: kernel), columns: .average(input: shape[2], kernel: kernel))
    }
}
