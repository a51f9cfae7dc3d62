import Foundation
import SRSupport

/// A unary elementwise operation, specialized (and vectorized) by the compiler in `mapped`.
protocol UnaryOperation { static func apply(_ x: Float) -> Float }

enum ExpOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { VectorMath.exp(x) } }
enum LogOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { Foundation.log(x) } }
enum SqrtOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() } }
enum RsqrtOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { 1 / x.squareRoot() } }
enum TanhOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { Foundation.tanh(x) } }
enum SigmoidOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { 1 / (1 + VectorMath.exp(-x)) } }
enum SiLUOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x / (1 + VectorMath.exp(-x)) } }
enum SinOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { Foundation.sin(x) } }
enum CosOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { Foundation.cos(x) } }
enum ReLUOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? x : 0 } }
enum StepOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? 1 : 0 } }
enum SquareOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x * x } }
enum AbsOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { Swift.abs(x) } }
enum SignOperation: UnaryOperation { @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) } }
/// GELU with the exact erf form (PyTorch's default `approximate='none'`).
enum GELUOperation: UnaryOperation {
    @inline(__always) static func apply(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.erf(x * 0.70710678118654752)) }
}
/// d GELU / dx = Φ(x) + x φ(x).
enum GELUDerivative: UnaryOperation {
    @inline(__always) static func apply(_ x: Float) -> Float {
        0.5 * (1 + Foundation.erf(x * 0.70710678118654752)) + x * 0.3989422804014327 * Foundation.exp(-0.5 * x * x)
    }
}
/// d SiLU / dx = σ(x)(1 + x(1 − σ(x))).
enum SiLUDerivative: UnaryOperation {
    @inline(__always) static func apply(_ x: Float) -> Float {
        let s = 1 / (1 + VectorMath.exp(-x))
        return s * (1 + x * (1 - s))
    }
}

extension Tensor {
    /// `Op` applied to every element (no gradient recording).
    func mapped<Op: UnaryOperation>(_ op: Op.Type) -> Tensor {
        Tensor.filled(shape: shape) { out in
            let x = storage.pointer
            parallelChunks(count) { range in for i in range { out[i] = Op.apply(x[i]) } }
        }
    }

    /// Applies `Op` and records the VJP `g * derivative(x, y)`.
    private func unary<Op: UnaryOperation>(_ op: Op.Type, derivative: @escaping (_ x: Tensor, _ y: Tensor) -> Tensor) -> Tensor {
        let x = self
        let y = mapped(op)
        return Tensor.recording(y, inputs: [x]) { g, _ in [g * derivative(x.detached, y)] }
    }

    /// eˣ elementwise.
    public func exp() -> Tensor { unary(ExpOperation.self) { _, y in y } }
    /// Natural logarithm elementwise.
    public func log() -> Tensor { unary(LogOperation.self) { x, _ in 1 / x } }
    /// √x elementwise.
    public func sqrt() -> Tensor { unary(SqrtOperation.self) { _, y in 0.5 / y } }
    /// 1/√x elementwise.
    public func rsqrt() -> Tensor { unary(RsqrtOperation.self) { x, y in -0.5 * y / x } }
    /// tanh elementwise.
    public func tanh() -> Tensor { unary(TanhOperation.self) { _, y in 1 - y * y } }
    /// The logistic sigmoid elementwise.
    public func sigmoid() -> Tensor { unary(SigmoidOperation.self) { _, y in y * (1 - y) } }
    /// SiLU (swish): x·σ(x).
    public func silu() -> Tensor { unary(SiLUOperation.self) { x, _ in x.mapped(SiLUDerivative.self) } }
    /// GELU, exact (erf) form as PyTorch's default.
    public func gelu() -> Tensor { unary(GELUOperation.self) { x, _ in x.mapped(GELUDerivative.self) } }
    /// sin x elementwise.
    public func sin() -> Tensor { unary(SinOperation.self) { x, _ in x.mapped(CosOperation.self) } }
    /// cos x elementwise.
    public func cos() -> Tensor { unary(CosOperation.self) { x, _ in -x.mapped(SinOperation.self) } }
    /// max(x, 0).
    public func relu() -> Tensor { unary(ReLUOperation.self) { x, _ in x.mapped(StepOperation.self) } }
    /// x² elementwise.
    public func squared() -> Tensor { unary(SquareOperation.self) { x, _ in 2 * x } }
    /// |x| elementwise (subgradient 0 at 0).
    public func abs() -> Tensor { unary(AbsOperation.self) { x, _ in x.mapped(SignOperation.self) } }

    /// Leaky ReLU: x for x > 0, `negativeSlope`·x otherwise (PyTorch's `nn.LeakyReLU`).
    public func leakyReLU(negativeSlope: Float) -> Tensor {
        let x = self
        let y = Tensor.filled(shape: shape) { out in
            let p = storage.pointer
            parallelChunks(count) { range in for i in range { out[i] = p[i] > 0 ? p[i] : negativeSlope * p[i] } }
        }
        return Tensor.recording(y, inputs: [x]) { g, _ in
            let slope = Tensor.filled(shape: x.shape) { out in
                let p = x.storage.pointer
                parallelChunks(x.count) { range in for i in range { out[i] = p[i] > 0 ? 1 : negativeSlope } }
            }
            return [g * slope]
        }
    }

    /// Every element clamped to `[lower, upper]` (gradient 1 inside, 0 where clamped).
    public func clamped(lower: Float, upper: Float) -> Tensor {
        precondition(lower <= upper, "clamp bounds \(lower) > \(upper)")
        let x = self
        let y = Tensor.filled(shape: shape) { out in
            let p = storage.pointer
            parallelChunks(count) { range in for i in range { out[i] = Swift.min(Swift.max(p[i], lower), upper) } }
        }
        return Tensor.recording(y, inputs: [x]) { g, _ in
            let mask = Tensor.filled(shape: x.shape) { out in
                let p = x.storage.pointer
                for i in 0..<x.count { out[i] = p[i] >= lower && p[i] <= upper ? 1 : 0 }
            }
            return [g * mask]
        }
    }
}
