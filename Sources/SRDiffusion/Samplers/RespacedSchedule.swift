import Foundation

/// How a sampler picks its timesteps from the training schedule.
public enum Respacing: String, Sendable, Codable, CaseIterable {
    /// `count` indices spread evenly from the last (noisiest) to the first: round(i·(T−1)/(count−1));
    /// one step uses the last index (this project's SR3 samplers).
    case evenly
    /// improved-diffusion's `space_timesteps(T, [count])` as StableSR's scripts call it: a stride of
    /// (T−1)/(count−1) accumulated in Double, each index rounded half to even (Python's `round`);
    /// one step uses index 0, as there.
    case spaceTimesteps = "space-timesteps"

    /// Ascending training-schedule indices.
    public func indices(total: Int, count: Int) -> [Int] {
        precondition(count >= 1 && count <= total, "step count must be in 1...\(total), got \(count)")
        switch self {
        case .evenly:
            return count == 1 ? [total - 1] : (0..<count).map { Int((Double($0) * Double(total - 1) / Double(count - 1)).rounded()) }
        case .spaceTimesteps:
            let stride = count <= 1 ? 1 : Double(total - 1) / Double(count - 1)
            var current = 0.0
            var taken: [Int] = []
            for _ in 0..<count {
                taken.append(Int(current.rounded(.toNearestOrEven)))
                current += stride
            }
            return Array(Set(taken)).sorted()
        }
    }
}

/// The arithmetic the respaced ᾱ are computed in.
public enum SchedulePrecision: String, Sendable, Codable {
    /// Double throughout (this project's SR3 samplers).
    case double
    /// As latent diffusion's scripts do it: the training ᾱ stored as Float32 buffers, the kept
    /// steps' β' = 1 − ᾱ_k/ᾱ_prev and their cumulative product computed in Float32 (StableSR's
    /// respacing iterates the float32 `alphas_cumprod` buffer; stablesr.md §1.4).
    case float32
}

/// Timesteps used by a sampler run and their ᾱ, noisiest first.
public struct RespacedSchedule: Sendable, Equatable {
    /// Training-schedule indices, noisiest first (what a timestep-conditioned network is told).
    public let timesteps: [Int]
    /// ᾱ at each of `timesteps` (the respaced schedule's cumulative product).
    public let alphasCumprod: [Double]

    public init(_ schedule: NoiseSchedule, count: Int, respacing: Respacing = .evenly, precision: SchedulePrecision = .double) {
        let ascending = respacing.indices(total: schedule.stepCount, count: count)
        timesteps = ascending.reversed()
        switch precision {
        case .double:
            alphasCumprod = timesteps.map { schedule.alphasCumprod[$0] }
        case .float32:
            var last: Float = 1, product: Float = 1
            var values: [Double] = []
            for k in ascending {
                let alphaBar = Float(schedule.alphasCumprod[k])
                let beta = 1 - alphaBar / last
                last = alphaBar
                product *= 1 - beta
                values.append(Double(product))
            }
            alphasCumprod = values.reversed()
        }
    }

    /// ᾱ after step `index` (1 after the last).
    public func previousAlphaCumprod(_ index: Int) -> Double { index + 1 < alphasCumprod.count ? alphasCumprod[index + 1] : 1 }
}
