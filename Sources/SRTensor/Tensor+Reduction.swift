import Foundation
import SRSupport

extension Tensor {
    /// Normalized, sorted, unique axes (negative axes count from the end).
    func normalizedAxes(_ axes: [Int]) -> [Int] {
        let normalized = axes.map { $0 < 0 ? $0 + rank : $0 }
        precondition(normalized.allSatisfy { $0 >= 0 && $0 < rank }, "axes \(axes) out of range for shape \(shape)")
        return Array(Set(normalized)).sorted()
    }

    /// The view of this tensor as `[outer, reduced, inner]` after moving `axes` together, and the
    /// kept shape. Permutes (copies) only when the axes are not already consecutive.
    private func reductionLayout(_ axes: [Int]) -> (source: Tensor, outer: Int, reduced: Int, inner: Int, kept: [Int]) {
        let kept = (0..<rank).filter { !axes.contains($0) }
        let reduced = axes.map { shape[$0] }.reduce(1, *)
        let consecutive = axes.isEmpty || axes.last! - axes.first! == axes.count - 1
        if consecutive, let first = axes.first {
            let outer = shape[..<first].reduce(1, *), inner = shape[(axes.last! + 1)...].reduce(1, *)
            return (self, outer, reduced, inner, kept.map { shape[$0] })
        }
        let moved = detached.permuted(kept + axes)
        return (moved, kept.map { shape[$0] }.reduce(1, *), reduced, 1, kept.map { shape[$0] })
    }

    /// Sum over `axes` (all axes when empty), in Float with pairwise-free sequential accumulation
    /// per output element (Double accumulation for long reductions).
    public func sum(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes)
        let layout = reductionLayout(axes)
        let (outer, reduced, inner) = (layout.outer, layout.reduced, layout.inner)
        let keptShape = keepingDimensions ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } : layout.kept
        let result = Tensor.filled(shape: keptShape) { out in
            let x = layout.source.storage.pointer
            if inner == 1 {
                parallelChunks(outer, grain: Swift.max(1, (1 << 14) / Swift.max(reduced, 1))) { range in
                    for o in range {
                        var s: Double = 0
                        let row = x + o * reduced
                        for r in 0..<reduced { s += Double(row[r]) }
                        out[o] = Float(s)
                    }
                }
            } else {
                parallelChunks(outer * inner, grain: Swift.max(1, (1 << 14) / Swift.max(reduced, 1))) { range in
                    for index in range {
                        let o = index / inner, i = index % inner
                        var s: Double = 0
                        let base = x + o * reduced * inner + i
                        for r in 0..<reduced { s += Double(base[r * inner]) }
                        out[index] = Float(s)
                    }
                }
            }
        }
        let x = self
        return Tensor.recording(result, inputs: [x]) { g, _ in
            let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            return [Tensor.broadcasting(AddOperation.self, Tensor.zeros(x.shape), g.reshaped(to: kept))]
        }
    }

    /// Mean over `axes` (all when empty).
    public func mean(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes)
        let n = axes.map { shape[$0] }.reduce(1, *)
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) * (1 / Float(n))
    }

    /// Population variance (divisor N, as PyTorch's `unbiased=False`) over `axes`.
    public func variance(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes)
        let centered = self - mean(alongAxes: axes, keepingDimensions: true)
        return centered.squared().mean(alongAxes: axes, keepingDimensions: keepingDimensions)
    }

    /// Maximum over `axes` (all when empty); the gradient goes to the first maximal element.
    public func max(alongAxes axes: [Int] = [], keepingDimensions: Bool = false) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : normalizedAxes(axes)
        let layout = reductionLayout(axes)
        let (outer, reduced, inner) = (layout.outer, layout.reduced, layout.inner)
        precondition(reduced > 0, "max over an empty axis")
        let keptShape = keepingDimensions ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } : layout.kept
        var arg = [Int](repeating: 0, count: outer * inner)
        let result = Tensor.filled(shape: keptShape) { out in
            let x = layout.source.storage.pointer
            for index in 0..<(outer * inner) {
                let o = index / inner, i = index % inner
                let base = x + o * reduced * inner + i
                var best = base[0], at = 0
                for r in 1..<Swift.max(reduced, 1) where base[r * inner] > best { best = base[r * inner]; at = r }
                out[index] = best
                arg[index] = at
            }
        }
        let x = self
        let permutedLayout = layout.source.storage !== storage
        return Tensor.recording(result, inputs: [x]) { g, _ in
            // Scatter into the [outer, reduced, inner] layout, then undo the permutation if any.
            var scattered = Tensor.zeros(permutedLayout ? layout.source.shape : x.shape)
            scattered.withUnsafeMutableBufferPointer { buffer in
                let gp = g.storage.pointer
                for index in 0..<(outer * inner) {
                    let o = index / inner, i = index % inner
                    buffer[o * reduced * inner + arg[index] * inner + i] = gp[index]
                }
            }
            if !permutedLayout { return [scattered] }
            let kept = (0..<x.rank).filter { !axes.contains($0) }
            let order = kept + axes
            var inverse = [Int](repeating: 0, count: order.count)
            for (i, axis) in order.enumerated() { inverse[axis] = i }
            return [scattered.permuted(inverse)]
        }
    }
}
