import Foundation

/// The `beta_schedule.train`/`.val` section of an SR3 config: which β schedule, over how many steps.
///
/// Matches: `make_beta_schedule` of the reference (`model/sr3_modules/diffusion.py`), in Double
/// like NumPy: `linear` (np.linspace), `quad` (linspace of square roots, squared), `warmup10` and
/// `warmup50` (linear over the first 10 % / 50 % of steps, then constant `linear_end`), `const`,
/// `jsd` (1/T, 1/(T−1), …, 1), `cosine` (Nichol & Dhariwal, s = 8e-3, β clamped at 0.999).
public struct BetaScheduleConfiguration: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case linear, quad, warmup10, warmup50, const, jsd, cosine }

    public var schedule: Kind
    public var stepCount: Int
    public var linearStart: Double
    public var linearEnd: Double

    enum CodingKeys: String, CodingKey {
        case schedule, stepCount = "n_timestep", linearStart = "linear_start", linearEnd = "linear_end"
    }

    public init(schedule: Kind = .linear, stepCount: Int = 2000, linearStart: Double = 1e-6, linearEnd: Double = 1e-2) {
        self.schedule = schedule
        self.stepCount = stepCount
        self.linearStart = linearStart
        self.linearEnd = linearEnd
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schedule = try c.decode(Kind.self, forKey: .schedule)
        stepCount = try c.decode(Int.self, forKey: .stepCount)
        linearStart = try c.decodeIfPresent(Double.self, forKey: .linearStart) ?? 1e-4
        linearEnd = try c.decodeIfPresent(Double.self, forKey: .linearEnd) ?? 2e-2
    }

    /// NumPy's `linspace(start, stop, count)`.
    static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        if count == 1 { return [start] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { start + Double($0) * step }
        values[count - 1] = stop
        return values
    }

    /// β₁…β_T.
    public func betas() -> [Double] {
        let n = stepCount
        switch schedule {
        case .linear: return Self.linspace(linearStart, linearEnd, n)
        case .quad: return Self.linspace(linearStart.squareRoot(), linearEnd.squareRoot(), n).map { $0 * $0 }
        case .warmup10, .warmup50:
            let warmup = Int(Double(n) * (schedule == .warmup10 ? 0.1 : 0.5))
            var betas = [Double](repeating: linearEnd, count: n)
            let ramp = Self.linspace(linearStart, linearEnd, warmup)
            for i in 0..<warmup { betas[i] = ramp[i] }
            return betas
        case .const: return [Double](repeating: linearEnd, count: n)
        case .jsd: return Self.linspace(Double(n), 1, n).map { 1 / $0 }
        case .cosine:
            let s = 8e-3
            let alphas = (0...n).map { i -> Double in
                let t = Double(i) / Double(n) + s
                let c = cos(t / (1 + s) * Double.pi / 2)
                return c * c
            }
            let normalized = alphas.map { $0 / alphas[0] }
            return (0..<n).map { min(1 - normalized[$0 + 1] / normalized[$0], 0.999) }
        }
    }
}

/// The cumulative products of a β schedule (Double), indexed 0…T−1 like the reference's buffers.
public struct NoiseSchedule: Sendable, Equatable {
    public let betas: [Double]
    /// ᾱ_t = Π_{s≤t} (1 − β_s).
    public let alphasCumprod: [Double]

    public init(betas: [Double]) {
        precondition(!betas.isEmpty && betas.allSatisfy { $0 > 0 && $0 < 1 }, "betas must lie in (0, 1)")
        self.betas = betas
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    public init(_ configuration: BetaScheduleConfiguration) { self.init(betas: configuration.betas()) }

    public var stepCount: Int { betas.count }

    /// √ᾱ with ᾱ₋₁ = 1 prepended: the reference's `sqrt_alphas_cumprod_prev`, whose entries t−1
    /// and t bound the continuous noise level drawn at training step t (1…T).
    public var sqrtAlphasCumprodPrevious: [Double] { [1] + alphasCumprod.map { $0.squareRoot() } }
}
