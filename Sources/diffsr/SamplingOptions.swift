import ArgumentParser
import DiffusionSR

extension SR3Upscaler.SamplerKind: ExpressibleByArgument {}
extension ColorCorrection: ExpressibleByArgument {}

/// How a diffusion model samples: the options `upscale` and `benchmark` share.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampler: ddpm, ddim or dpm-solver++ (default: the model's recorded sampler, else ddim).")
    var sampler: SR3Upscaler.SamplerKind?

    @Option(help: "Number of network evaluations, respaced over the training schedule (default: the model's recorded step count, else 10).")
    var steps: Int?

    @Option(help: "DDIM stochasticity (0 = deterministic).")
    var eta: Double = 0

    @Option(help: "Tile size in output pixels (multiple of the model's size multiple); images larger than a tile are denoised in overlapping tiles blended at every step. Default: no tiling.")
    var tile: Int?

    @Option(help: "Tile overlap in output pixels.")
    var tileOverlap: Int = 32

    @Option(help: "SR3+ models: test-time augmentation level t_eval in [0, 1] (higher: more realism, less fidelity; default: the level recorded in the model, else 0).")
    var augLevel: Double?

    @Option(help: "Color correction against the upsampled input: none, adain or wavelet (default: the model's recorded one, else none).")
    var colorFix: ColorCorrection?

    @Option(help: "Where sampling starts: auto (the model's schedule decides), noise (the reference), or condition (the upsampled input noised to the first step's level).")
    var start: StartOption = .auto

    enum StartOption: String, ExpressibleByArgument, CaseIterable {
        case auto, noise, condition
        var value: DiffusionSampling.Start? {
            switch self {
            case .auto: return nil
            case .noise: return .noise
            case .condition: return .noisedCondition
            }
        }
    }

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if eta < 0 { throw ValidationError("--eta must be non-negative, got \(eta)") }
        if let augLevel, !(0...1).contains(augLevel) { throw ValidationError("--aug-level must be in [0, 1], got \(augLevel)") }
        if let tile, tile < 8 || tileOverlap < 0 || tileOverlap >= tile {
            throw ValidationError("--tile must be at least 8 and --tile-overlap in 0..<tile")
        }
    }

    /// The settings for a benchmark method.
    func settings(seed: UInt64, samples: Int) -> SamplingSettings {
        SamplingSettings(sampler: sampler, steps: steps, eta: eta, seed: seed, samples: samples, tile: tile, tileOverlap: tileOverlap,
                         colorCorrection: colorFix, augmentationLevel: augLevel, start: start.value)
    }
}
