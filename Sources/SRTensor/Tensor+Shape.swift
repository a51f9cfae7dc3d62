import Foundation
import SRSupport

extension Tensor {
    /// The same elements with another shape (one dimension may be −1, inferred). Shares storage.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        if let unknown = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != unknown }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            target[unknown] = count / known
        }
        precondition(target.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        let x = self
        let result = Tensor(shape: target, storage: storage)
        return Tensor.recording(result, inputs: [x]) { g, _ in [g.reshaped(to: x.shape)] }
    }

    /// The axes reordered: output axis i is input axis `order[i]` (PyTorch `permute`). Copies.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "permutation \(order) for rank \(rank)")
        let outShape = order.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        let strides = order.map { inStrides[$0] }
        let x = self
        let result: Tensor
        if order == Array(0..<rank) {
            result = Tensor(shape: shape, storage: storage)
        } else {
            result = Tensor.filled(shape: outShape) { out in
                let src = storage.pointer
                let r = outShape.count
                let inner = outShape[r - 1], innerStride = strides[r - 1]
                let rows = count / Swift.max(inner, 1)
                parallelChunks(rows, grain: Swift.max(1, (1 << 14) / Swift.max(inner, 1))) { range in
                    for row in range {
                        var rest = row, offset = 0
                        for axis in stride(from: r - 2, through: 0, by: -1) {
                            offset += (rest % outShape[axis]) * strides[axis]
                            rest /= outShape[axis]
                        }
                        let o = out + row * inner
                        if innerStride == 1 {
                            for i in 0..<inner { o[i] = src[offset + i] }
                        } else {
                            for i in 0..<inner { o[i] = src[offset + i * innerStride] }
                        }
                    }
                }
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        return Tensor.recording(result, inputs: [x]) { g, _ in [g.permuted(inverse)] }
    }

    /// Swaps the last two axes (matrix transpose, batched).
    public func transposedLastTwo() -> Tensor {
        precondition(rank >= 2, "transpose needs rank ≥ 2")
        var order = Array(0..<rank)
        order.swapAt(rank - 1, rank - 2)
        return permuted(order)
    }

    /// Concatenation along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let rank = tensors[0].rank
        let axis = axis < 0 ? axis + rank : axis
        for t in tensors {
            precondition(t.rank == rank && (0..<rank).allSatisfy { $0 == axis || t.shape[$0] == tensors[0].shape[$0] },
                         "cannot concatenate \(tensors.map(\.shape)) along axis \(axis)")
        }
        var outShape = tensors[0].shape
        outShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
        let outer = outShape[..<axis].reduce(1, *), inner = outShape[(axis + 1)...].reduce(1, *)
        let result = Tensor.filled(shape: outShape) { out in
            let rowLength = outShape[axis] * inner
            let sources = tensors.map { ($0.storage.pointer, $0.shape[axis] * inner) }
            // Rows split across the threads (the U-Net's skip concatenations are megabytes each).
            parallelChunks(outer, grain: Swift.max(1, (1 << 15) / Swift.max(rowLength, 1))) { rows in
                for o in rows {
                    var offset = 0
                    for (src, length) in sources {
                        (out + o * rowLength + offset).update(from: src + o * length, count: length)
                        offset += length
                    }
                }
            }
        }
        let sizes = tensors.map { $0.shape[axis] }
        return recording(result, inputs: tensors) { g, needs in
            var start = 0
            return sizes.enumerated().map { i, size in
                defer { start += size }
                return needs[i] ? g.sliced(alongAxis: axis, from: start, count: size) : nil
            }
        }
    }

    /// `count` entries of `axis` starting at `start`. Copies.
    public func sliced(alongAxis axis: Int, from start: Int, count length: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        precondition(axis >= 0 && axis < rank && start >= 0 && length >= 0 && start + length <= shape[axis],
                     "slice \(start)..<\(start + length) of axis \(axis) in shape \(shape)")
        var outShape = shape
        outShape[axis] = length
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let result = Tensor.filled(shape: outShape) { out in
            let src = storage.pointer, span = shape[axis]
            parallelChunks(outer, grain: Swift.max(1, (1 << 15) / Swift.max(length * inner, 1))) { rows in
                for o in rows {
                    (out + o * length * inner).update(from: src + (o * span + start) * inner, count: length * inner)
                }
            }
        }
        let x = self
        return Tensor.recording(result, inputs: [x]) { g, _ in
            var full = Tensor.zeros(x.shape)
            full.withUnsafeMutableBufferPointer { buffer in
                let gp = g.storage.pointer
                for o in 0..<outer {
                    (buffer.baseAddress! + (o * x.shape[axis] + start) * inner).update(from: gp + o * length * inner, count: length * inner)
                }
            }
            return [full]
        }
    }

    /// Padding modes of `padded`.
    public enum PaddingMode: Sendable { case zero, reflect }

    /// Pads the H and W axes of an NHWC tensor (`[N, H, W, C]`) by `top, bottom, left, right`.
    /// `.reflect` mirrors without repeating the edge (PyTorch `'reflect'`; pads must be < the size).
    public func padded(top: Int, bottom: Int, left: Int, right: Int, mode: PaddingMode = .zero) -> Tensor {
        precondition(rank == 4, "padded expects NHWC, got shape \(shape)")
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        if mode == .reflect {
            precondition(top < h && bottom < h && left < w && right < w, "reflect padding must be smaller than the image")
        }
        let oh = h + top + bottom, ow = w + left + right
        func source(_ i: Int, _ size: Int) -> Int? {
            if i >= 0 && i < size { return i }
            if mode == .zero { return nil }
            return i < 0 ? -i : 2 * (size - 1) - i
        }
        let rows = (0..<oh).map { source($0 - top, h) }, cols = (0..<ow).map { source($0 - left, w) }
        let result = Tensor.filled(shape: [n, oh, ow, c]) { out in
            let src = storage.pointer
            out.initialize(repeating: 0, count: n * oh * ow * c)
            for b in 0..<n { for y in 0..<oh {
                guard let sy = rows[y] else { continue }
                for x in 0..<ow {
                    guard let sx = cols[x] else { continue }
                    (out + ((b * oh + y) * ow + x) * c).update(from: src + ((b * h + sy) * w + sx) * c, count: c)
                }
            } }
        }
        let x = self
        return Tensor.recording(result, inputs: [x]) { g, _ in
            var grad = Tensor.zeros(x.shape)
            grad.withUnsafeMutableBufferPointer { buffer in
                let gp = g.storage.pointer
                for b in 0..<n { for y in 0..<oh {
                    guard let sy = rows[y] else { continue }
                    for xx in 0..<ow {
                        guard let sx = cols[xx] else { continue }
                        let to = ((b * h + sy) * w + sx) * c, from = ((b * oh + y) * ow + xx) * c
                        for k in 0..<c { buffer[to + k] += gp[from + k] }
                    }
                } }
            }
            return [grad]
        }
    }
}
