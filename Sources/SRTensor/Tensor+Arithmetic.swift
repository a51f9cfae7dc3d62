import Foundation
import SRSupport

/// A binary elementwise operation, specialized by the compiler in the broadcasting loops.
protocol BinaryOperation { static func apply(_ a: Float, _ b: Float) -> Float }
enum AddOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubtractOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MultiplyOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivideOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
enum MaximumOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.max(a, b) } }
enum MinimumOperation: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Swift.min(a, b) } }

/// The shape two shapes broadcast to (NumPy rules: align at the right, 1 stretches).
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides of `shape` read as if broadcast to `target` (0 along stretched axes).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
        i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
}

extension Tensor {
    /// `Op` applied elementwise with broadcasting (no gradient recording).
    static func broadcasting<Op: BinaryOperation>(_ op: Op.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
        if a.shape == b.shape {
            return Tensor.filled(shape: a.shape) { out in
                let x = a.storage.pointer, y = b.storage.pointer
                parallelChunks(a.count) { range in
                    for i in range { out[i] = Op.apply(x[i], y[i]) }
                }
            }
        }
        if b.count == 1 {
            let s = b.storage.pointer[0]
            return Tensor.filled(shape: broadcastShape(a.shape, b.shape)) { out in
                let x = a.storage.pointer
                parallelChunks(a.count) { range in for i in range { out[i] = Op.apply(x[i], s) } }
            }
        }
        if a.count == 1 {
            let s = a.storage.pointer[0]
            return Tensor.filled(shape: broadcastShape(a.shape, b.shape)) { out in
                let y = b.storage.pointer
                parallelChunks(b.count) { range in for i in range { out[i] = Op.apply(s, y[i]) } }
            }
        }
        let shape = broadcastShape(a.shape, b.shape)
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        let rank = shape.count
        let inner = shape[rank - 1]
        let ia = sa[rank - 1], ib = sb[rank - 1]
        let rows = shape.reduce(1, *) / Swift.max(inner, 1)
        return Tensor.filled(shape: shape) { out in
            let x = a.storage.pointer, y = b.storage.pointer
            parallelChunks(rows, grain: Swift.max(1, (1 << 14) / Swift.max(inner, 1))) { range in
                var index = [Int](repeating: 0, count: rank)
                for row in range {
                    // Offsets of this row in a and b.
                    var rest = row, oa = 0, ob = 0
                    for axis in stride(from: rank - 2, through: 0, by: -1) {
                        index[axis] = rest % shape[axis]
                        rest /= shape[axis]
                        oa += index[axis] * sa[axis]
                        ob += index[axis] * sb[axis]
                    }
                    let o = out + row * inner
                    if ia == 1 && ib == 1 {
                        for i in 0..<inner { o[i] = Op.apply(x[oa + i], y[ob + i]) }
                    } else if ia == 1 && ib == 0 {
                        let v = y[ob]
                        for i in 0..<inner { o[i] = Op.apply(x[oa + i], v) }
                    } else if ia == 0 && ib == 1 {
                        let v = x[oa]
                        for i in 0..<inner { o[i] = Op.apply(v, y[ob + i]) }
                    } else {
                        for i in 0..<inner { o[i] = Op.apply(x[oa + i * ia], y[ob + i * ib]) }
                    }
                }
            }
        }
    }

    /// The sum of this gradient over the axes that broadcasting stretched, shaped like `target`.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        precondition(offset >= 0, "cannot reduce \(shape) to \(target)")
        var axes: [Int] = Array(0..<offset)
        for (i, dim) in target.enumerated() where dim == 1 && shape[i + offset] != 1 { axes.append(i + offset) }
        return sum(alongAxes: axes, keepingDimensions: false).reshaped(to: target)
    }

    // Elementwise arithmetic with NumPy broadcasting: shapes are aligned from the last axis, and an
    // axis of size 1 (or a missing leading axis) stretches to the other operand's size; the result
    // has the broadcast shape. Each gradient is summed back to its operand's shape.

    /// a + b, broadcast (see above).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        recording(broadcasting(AddOperation.self, a, b), inputs: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? g.summed(toShape: b.shape) : nil]
        }
    }

    /// a − b, broadcast.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        recording(broadcasting(SubtractOperation.self, a, b), inputs: [a, b]) { g, needs in
            [needs[0] ? g.summed(toShape: a.shape) : nil, needs[1] ? (-g).summed(toShape: b.shape) : nil]
        }
    }

    /// a · b elementwise, broadcast.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        recording(broadcasting(MultiplyOperation.self, a, b), inputs: [a, b]) { g, needs in
            [needs[0] ? (g * b).summed(toShape: a.shape) : nil, needs[1] ? (g * a).summed(toShape: b.shape) : nil]
        }
    }

    /// a / b elementwise, broadcast.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        recording(broadcasting(DivideOperation.self, a, b), inputs: [a, b]) { g, needs in
            [needs[0] ? (g / b).summed(toShape: a.shape) : nil,
             needs[1] ? (-(g * a) / (b * b)).summed(toShape: b.shape) : nil]
        }
    }

    /// −a elementwise.
    public static prefix func - (a: Tensor) -> Tensor { a * Tensor(-1) }

    // With a scalar: the scalar broadcasts to the tensor's shape.

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func / (a: Tensor, b: Float) -> Tensor { a * Tensor(1 / b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    /// Elementwise maximum (the gradient goes to `a` where `a >= b`, else to `b`).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        recording(broadcasting(MaximumOperation.self, a, b), inputs: [a, b]) { g, needs in
            let mask = broadcasting(GreaterOrEqualMask.self, a, b)
            return [needs[0] ? (g * mask).summed(toShape: a.shape) : nil,
                    needs[1] ? (g * (1 - mask)).summed(toShape: b.shape) : nil]
        }
    }
}

/// 1 where a ≥ b, else 0.
enum GreaterOrEqualMask: BinaryOperation { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }
