import Foundation
import SRDiffusion
import SRPipelines
import SRImage

/// How a diffusion model is sampled in a benchmark (the `diffsr upscale` options that change
/// its output).
public struct SamplingSettings: Codable, Hashable, Sendable {
    /// nil: the model's recorded default (`SR3ModelDescription.sampling`), else DDIM.
    public var sampler: SR3Upscaler.SamplerKind?
    /// nil: the model's recorded default, else 10.
    public var steps: Int?
    public var eta: Double
    /// Image i, sample k uses seed + 1000·k + i.
    public var seed: UInt64
    /// Samples per image; metrics are averaged over them, the report shows sample 0.
    public var samples: Int
    public var tile: Int?
    public var tileOverlap: Int
    /// nil: the model's recorded default, else none.
    public var colorCorrection: ColorCorrection?
    /// SR3+ test-time augmentation level (nil: the model's default; ignored by models without
    /// condition augmentation).
    public var augmentationLevel: Double?
    /// Where sampling starts (nil: the upscaler's default for the model's schedule).
    public var start: DiffusionSampling.Start?
    /// StableSR's CFW weight w (nil: the model's recorded default; refused for SR3 models).
    public var decoderWeight: Double?

    public init(sampler: SR3Upscaler.SamplerKind? = nil, steps: Int? = nil, eta: Double = 0, seed: UInt64 = 0,
                samples: Int = 1, tile: Int? = nil, tileOverlap: Int = 32, colorCorrection: ColorCorrection? = nil,
                augmentationLevel: Double? = nil, start: DiffusionSampling.Start? = nil, decoderWeight: Double? = nil) {
        self.sampler = sampler
        self.steps = steps
        self.eta = eta
        self.seed = seed
        self.samples = samples
        self.tile = tile
        self.tileOverlap = tileOverlap
        self.colorCorrection = colorCorrection
        self.augmentationLevel = augmentationLevel
        self.start = start
        self.decoderWeight = decoderWeight
    }

    /// The seed of sample `sample` of image `index`.
    public func seed(image index: Int, sample: Int) -> UInt64 { seed &+ 1000 &* UInt64(sample) &+ UInt64(index) }

    /// These settings with each unset field taken from `model`'s recorded defaults (else the
    /// tool's): what an upscaler built from them runs. An unset augmentation level becomes the
    /// model's recorded one for models with condition augmentation and stays nil for the others.
    public func resolved(for model: SR3ModelDescription) -> SamplingSettings {
        let defaults = SamplingDefaults(sampler: sampler, steps: steps, colorCorrection: colorCorrection).filled(from: model.effectiveSampling)
        var result = self
        (result.sampler, result.steps, result.colorCorrection) = (defaults.sampler, defaults.steps, defaults.colorCorrection)
        if augmentationLevel == nil, model.unet.conditionAugmentation { result.augmentationLevel = model.augmentationLevel ?? 0 }
        return result
    }

    /// A short human-readable description ("dpm-solver++ 50 steps"); unset fields read "model's".
    public var summary: String {
        var parts = ["\(sampler?.rawValue ?? "model's sampler") \(steps.map { "\($0) step\($0 == 1 ? "" : "s")" } ?? "model's steps")"]
        if sampler == .ddim && eta != 0 { parts.append("η \(eta)") }
        if samples > 1 { parts.append("\(samples) samples") }
        if let tile { parts.append("tile \(tile)/\(tileOverlap)") }
        switch colorCorrection {
        case nil: parts.append("model's color fix")
        case ColorCorrection.none?: break
        case let fix?: parts.append("color fix \(fix.rawValue)")
        }
        if let augmentationLevel { parts.append("aug level \(augmentationLevel)") }
        if let decoderWeight { parts.append("w \(decoderWeight)") }
        if let start { parts.append("start from \(start.rawValue)") }
        return parts.joined(separator: ", ")
    }
}

/// One column of a benchmark: a classical resize, a model of this project, or the outputs of an
/// external method read from a folder.
public struct BenchmarkMethod: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        /// Upscale the LR image with a resampling method.
        case resize(ResizeMethod)
        /// An SR3 / Regression / SR3+ model file (regression models ignore the sampling settings).
        case model(path: String, sampling: SamplingSettings)
        /// Pre-computed outputs `<folder>/<image>.png|jpg` (e.g. Real-ESRGAN or SPAN from Tools/).
        case external(folder: String)
    }

    /// The column name ("bicubic", "sr3", "sr3 ddim-10", …).
    public var name: String
    public var kind: Kind
    /// Set for the points of a sampler study: (sampler, steps) of this column.
    public var studyPoint: StudyPoint?

    public struct StudyPoint: Codable, Hashable, Sendable {
        public var sampler: SR3Upscaler.SamplerKind
        public var steps: Int

        public init(sampler: SR3Upscaler.SamplerKind, steps: Int) {
            self.sampler = sampler
            self.steps = steps
        }
    }

    public init(name: String, kind: Kind, studyPoint: StudyPoint? = nil) {
        self.name = name
        self.kind = kind
        self.studyPoint = studyPoint
    }

    /// Samples produced per image.
    public var samplesPerImage: Int {
        if case .model(_, let sampling) = kind { return sampling.samples }
        return 1
    }

    /// A file-system-safe version of the name, for the cache folder.
    public var slug: String {
        String(name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// The aliases `--methods` accepts for classical resizes.
    public static let resizeAliases: [String: ResizeMethod] = ["bicubic": .pilBicubic, "lanczos": .pilLanczos]

    /// The shipped-model aliases `--methods` accepts: alias → model name for a scale.
    public static func modelName(forAlias alias: String, scale: Int) -> String? {
        ["regression", "sr3", "sr3plus", "stablesr"].contains(alias) ? "\(alias)-x\(scale)" : nil
    }
}

extension SR3Upscaler {
    /// An upscaler for `model` sampled as `settings` say, unset fields from the model's recorded
    /// defaults (seed and sample count are the caller's), after checking the settings against the
    /// model: steps within its schedule, a tile size the U-Net can take. `diffsr upscale` and the
    /// benchmark both build their upscalers here.
    public init(model: SR3ModelFile, settings given: SamplingSettings) throws {
        if given.decoderWeight != nil { throw BenchmarkError("@w= (the CFW weight) applies to StableSR models, not SR3") }
        let settings = given.resolved(for: model.description)
        let total = NoiseSchedule(model.description.betaSchedule).stepCount, steps = settings.steps!
        guard (1...total).contains(steps) else {
            throw BenchmarkError((steps < 1 ? "the step count \(steps) is below 1" : "the step count \(steps) exceeds the model's \(total) training steps")
                                 + (given.steps == nil && model.description.sampling?.steps != nil ? " (recorded in the model file)" : ""))
        }
        if let tile = settings.tile, tile % model.network.sizeMultiple != 0 {
            throw BenchmarkError("the tile size \(tile) must be a multiple of \(model.network.sizeMultiple) for this model")
        }
        self.init(model: model, sampler: settings.sampler, steps: steps, eta: settings.eta)
        colorCorrection = settings.colorCorrection!
        if let level = settings.augmentationLevel { augmentationLevel = level }
        start = settings.start
        if let tile = settings.tile { self.tile = TiledDenoiser(size: tile, overlap: settings.tileOverlap) }
    }
}

extension StableSRSettings {
    /// A benchmark column's StableSR settings: the model's recorded settings (else the reference's),
    /// with the benchmark's sampling options applied where set (tiles in output pixels, 8 per latent
    /// pixel) and the suite's scale.
    public init(recorded: Recorded, sampling: SamplingSettings, scale: Int, path: String) throws {
        self.init(recorded: recorded)
        if let sampler = sampling.sampler { self.sampler = sampler }
        if let steps = sampling.steps { self.steps = steps }
        eta = sampling.eta
        if let fix = sampling.colorCorrection { colorCorrection = fix }
        if sampling.start == .noise { start = .noise }
        if sampling.augmentationLevel != nil { throw BenchmarkError("\(path): @aug= and --aug-level apply to SR3+ models, not StableSR") }
        if let w = sampling.decoderWeight { decoderWeight = w }
        if let tile = sampling.tile {
            guard tile % 8 == 0, sampling.tileOverlap % 8 == 0 else {
                throw BenchmarkError("\(path): StableSR tiles are in latent pixels: --tile and --tile-overlap must be multiples of 8")
            }
            (latentTile, latentTileOverlap) = (tile / 8, sampling.tileOverlap / 8)
        }
        self.scale = Double(scale)
        do { try validate() } catch { throw BenchmarkError("\(path): \(error)") }
    }
}

extension StableSRUpscaler {
    /// A StableSR upscaler for a benchmark column (`StableSRSettings(recorded:sampling:scale:path:)`).
    public init(model: StableSRModel, sampling: SamplingSettings, scale: Int, path: String) throws {
        self.init(model: model, settings: try StableSRSettings(recorded: model.defaults, sampling: sampling, scale: scale, path: path))
    }
}
