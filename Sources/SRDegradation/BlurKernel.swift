import Foundation

/// A square, odd-sized blur kernel (row-major, sums to 1), applied by correlation.
///
/// Matches: BasicSR 1.4.2 `basicsr/data/degradations.py` (`mesh_grid`, `sigma_matrix2`,
/// `bivariate_Gaussian`, `bivariate_generalized_Gaussian`, `bivariate_plateau`,
/// `circular_lowpass_kernel`), in Double: grid coordinates −⌊k/2⌋…⌊k/2⌋ (x along columns, y along
/// rows), Σ = R(θ)·diag(σx², σy²)·R(θ)ᵀ (isotropic: σx on both axes, θ ignored), q = dᵀΣ⁻¹d;
/// Gaussian exp(−q/2), generalized Gaussian exp(−q^β/2), plateau 1/(q^β + 1); circular low-pass
/// ω·J1(ω·r)/(2π·r) with the centre ω²/(4π); every kernel normalized to sum 1 and optionally
/// zero-padded to a larger odd size.
public struct BlurKernel: Sendable, Equatable, Codable {
    public let size: Int
    public let values: [Double]

    public init(size: Int, values: [Double]) {
        precondition(size % 2 == 1 && values.count == size * size, "a kernel must be odd and square")
        self.size = size
        self.values = values
    }

    /// The 1-pixel identity (Real-ESRGAN's "no final sinc" pulse), padded to `size`.
    public static func identity(size: Int = 1) -> BlurKernel {
        BlurKernel(size: 1, values: [1]).padded(to: size)
    }

    /// This kernel zero-padded to `target` (odd, ≥ size).
    public func padded(to target: Int) -> BlurKernel {
        guard target > size else { return self }
        let pad = (target - size) / 2
        var out = [Double](repeating: 0, count: target * target)
        for y in 0..<size { for x in 0..<size { out[(y + pad) * target + x + pad] = values[y * size + x] } }
        return BlurKernel(size: target, values: out)
    }

    static func normalized(size: Int, _ value: (_ x: Double, _ y: Double) -> Double) -> BlurKernel {
        let half = size / 2
        var values = [Double](repeating: 0, count: size * size)
        for row in 0..<size { for column in 0..<size { values[row * size + column] = value(Double(column - half), Double(row - half)) } }
        let total = values.reduce(0, +)
        return BlurKernel(size: size, values: values.map { $0 / total })
    }

    /// (column, row) with values[y·k + x] = column[y]·row[x] to 1e-9 of the largest value, or nil
    /// when the kernel is not rank 1 (rotated anisotropic, generalized, plateau, sinc kernels).
    public var separableFactors: (column: [Float], row: [Float])? {
        let half = size / 2
        let centre = values[half * size + half]
        guard size > 1, centre > 0 else { return nil }
        let row = (0..<size).map { values[half * size + $0] }
        let column = (0..<size).map { values[$0 * size + half] / centre }
        let largest = values.map(abs).max() ?? 0
        for y in 0..<size { for x in 0..<size where abs(values[y * size + x] - column[y] * row[x]) > 1e-9 * largest { return nil } }
        return (column.map(Float.init), row.map(Float.init))
    }

    /// dᵀΣ⁻¹d for the (possibly rotated, anisotropic) covariance.
    static func quadraticForm(sigmaX: Double, sigmaY: Double, theta: Double, isotropic: Bool) -> (Double, Double) -> Double {
        let (sx, sy, t) = isotropic ? (sigmaX, sigmaX, 0.0) : (sigmaX, sigmaY, theta)
        let c = cos(t), s = sin(t)
        // Σ = R diag(sx², sy²) Rᵀ
        let a = c * c * sx * sx + s * s * sy * sy, b = c * s * (sx * sx - sy * sy), d = s * s * sx * sx + c * c * sy * sy
        let det = a * d - b * b
        let (ia, ib, id) = (d / det, -b / det, a / det)
        return { x, y in ia * x * x + 2 * ib * x * y + id * y * y }
    }

    public static func gaussian(size: Int, sigmaX: Double, sigmaY: Double = 0, theta: Double = 0, isotropic: Bool = true) -> BlurKernel {
        let q = quadraticForm(sigmaX: sigmaX, sigmaY: sigmaY, theta: theta, isotropic: isotropic)
        return normalized(size: size) { x, y in exp(-0.5 * q(x, y)) }
    }

    public static func generalizedGaussian(size: Int, sigmaX: Double, sigmaY: Double = 0, theta: Double = 0, beta: Double,
                                           isotropic: Bool = true) -> BlurKernel {
        let q = quadraticForm(sigmaX: sigmaX, sigmaY: sigmaY, theta: theta, isotropic: isotropic)
        return normalized(size: size) { x, y in exp(-0.5 * pow(q(x, y), beta)) }
    }

    public static func plateau(size: Int, sigmaX: Double, sigmaY: Double = 0, theta: Double = 0, beta: Double,
                               isotropic: Bool = true) -> BlurKernel {
        let q = quadraticForm(sigmaX: sigmaX, sigmaY: sigmaY, theta: theta, isotropic: isotropic)
        return normalized(size: size) { x, y in 1 / (pow(q(x, y), beta) + 1) }
    }

    /// The circular low-pass (2-D sinc) filter of cutoff `cutoff` (radians per pixel).
    public static func circularLowpass(cutoff: Double, size: Int, padTo: Int = 0) -> BlurKernel {
        let kernel = normalized(size: size) { x, y in
            let r = (x * x + y * y).squareRoot()
            return r == 0 ? cutoff * cutoff / (4 * Double.pi) : cutoff * j1(cutoff * r) / (2 * Double.pi * r)
        }
        return kernel.padded(to: padTo)
    }
}
