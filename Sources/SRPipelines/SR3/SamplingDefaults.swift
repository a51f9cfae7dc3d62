import Foundation
import SRDiffusion

/// The sampling settings a model file recommends (`SR3ModelDescription.sampling`, in the model's
/// safetensors metadata), used by `diffsr upscale` and `diffsr benchmark` wherever the user
/// gives no flag. A field left nil falls back to the tool's default (`SamplingDefaults.tool`:
/// DDIM, 10 steps, no color correction). A flag always wins over a recorded default.
///
/// Recorded with `diffsr convert MODEL -o OUT --default-steps N --default-color-fix FIX …`, from
/// measurements on held-out validation crops (Models/README.md names each shipped model's).
public struct SamplingDefaults: Codable, Sendable, Equatable {
    public var sampler: SR3Upscaler.SamplerKind?
    /// Network evaluations; at least 1 and at most the model's training schedule's step count.
    public var steps: Int?
    public var colorCorrection: ColorCorrection?

    enum CodingKeys: String, CodingKey {
        case sampler, steps, colorCorrection = "color_correction"
    }

    public init(sampler: SR3Upscaler.SamplerKind? = nil, steps: Int? = nil, colorCorrection: ColorCorrection? = nil) {
        self.sampler = sampler
        self.steps = steps
        self.colorCorrection = colorCorrection
    }

    /// The tool's own defaults: what a model that records nothing is sampled with.
    public static let tool = SamplingDefaults(sampler: .ddim, steps: 10, colorCorrection: ColorCorrection.none)

    /// True when no field is set.
    public var isEmpty: Bool { sampler == nil && steps == nil && colorCorrection == nil }

    /// Each field of `self`, else `fallback`'s.
    public func filled(from fallback: SamplingDefaults) -> SamplingDefaults {
        SamplingDefaults(sampler: sampler ?? fallback.sampler, steps: steps ?? fallback.steps,
                         colorCorrection: colorCorrection ?? fallback.colorCorrection)
    }
}
