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
        groupNormalized(groups: groups, scale: scale, offset: offset, epsilon: epsilon, silu: false)
    }

    /// `groupNormalized(groups:scale:offset:epsilon:).silu()` in one pass over the data, forward
    /// and backward (the U-Net blocks' GroupNorm → SiLU): the normalized values are never stored,
    /// and the backward pass recomputes them from the input and the saved statistics.
    /// NHWC, shapes as `groupNormalized`.
    public func groupNormalizedSiLU(groups: Int, scale: Tensor, offset: Tensor, epsilon: Float = 1e-5) -> Tensor {
        groupNormalized(groups: groups, scale: scale, offset: offset, epsilon: epsilon, silu: true)
    }

    private func groupNormalized(groups: Int, scale: Tensor, offset: Tensor, epsilon: Float, silu: Bool) -> Tensor {
        precondition(rank == 4, "groupNormalized expects NHWC, got \(shape)")
        let c = shape[3]
        precondition(groups > 0 && c % groups == 0, "\(c) channels do not split into \(groups) groups")
        precondition(scale.shape == [c] && offset.shape == [c], "group norm γ/β must be [\(c)], got \(scale.shape), \(offset.shape)")
        let kernelShape = GroupNormKernel.Shape(batch: shape[0], pixels: shape[1] * shape[2], channels: c, groups: groups)
        let x = self
        var statistics = GroupNormKernel.Statistics(means: [], inverseDeviations: [])
        let result = Tensor.filled(shape: shape) { out in
            statistics = GroupNormKernel.forward(storage.pointer, scale: scale.storage.pointer, offset: offset.storage.pointer,
                                                 epsilon: epsilon, shape: kernelShape, silu: silu, output: out)
        }
        return Tensor.recording(result, inputs: [x, scale, offset]) { [statistics] g, needs in
            var parameterGradients: (scale: [Double], offset: [Double]) = ([], [])
            func backward(into dx: UnsafeMutablePointer<Float>?) {
                parameterGradients = GroupNormKernel.backward(
                    x.storage.pointer, outputGradient: g.storage.pointer, scale: scale.storage.pointer, offset: offset.storage.pointer,
                    statistics: statistics, shape: kernelShape, silu: silu, inputGradient: dx)
            }
            let dx: Tensor? = needs[0] ? Tensor.filled(shape: x.shape) { backward(into: $0) } : nil
            if !needs[0] { backward(into: nil) }
            return [dx,
                    needs[1] ? Tensor(shape: [c], values: parameterGradients.scale.map(Float.init)) : nil,
                    needs[2] ? Tensor(shape: [c], values: parameterGradients.offset.map(Float.init)) : nil]
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
/// `second` is given), accumulated in Float over runs of 64 pixels and in Double across runs
/// (`GroupNormKernel.accumulate`), split across cores.
func channelSums(_ a: UnsafePointer<Float>, pixels: Int, channels c: Int, second b: UnsafePointer<Float>?) -> ([Double], [Double]) {
    let threads = Swift.min(Parallelism.threadCount, Swift.max(1, pixels * c / (1 << 14)))
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: 2 * c * threads)
    partial.initialize(repeating: 0, count: 2 * c * threads)
    defer { partial.deallocate() }
    parallelForEach(threads) { t in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * c)
        defer { scratch.deallocate() }
        let d = partial + 2 * c * t
        GroupNormKernel.accumulate(a, b, pixels: (pixels * t / threads)..<(pixels * (t + 1) / threads), channels: c,
                                   scratch: scratch, sums: d, products: d + c)
    }
    var sums = [Double](repeating: 0, count: c), products = [Double](repeating: 0, count: c)
    for t in 0..<threads {
        for k in 0..<c { sums[k] += partial[2 * c * t + k]; products[k] += partial[2 * c * t + c + k] }
    }
    return (sums, products)
}
