import Foundation
import SRDiffusion
import SRImage
import SRTensor

/// The model families `diffsr` runs; a model file records its family (`diffsr.family` in the
/// safetensors metadata; files without it are SR3 models, as every file before StableSR).
public enum ModelFamily: String, Codable, Sendable, CaseIterable {
    /// SR3 / SR3+ / Regression (`SR3ModelFile`, `SR3Upscaler`).
    case sr3
    /// StableSR (`StableSRModel`, `StableSRUpscaler`).
    case stablesr

    /// The safetensors metadata key that names the family.
    public static let metadataKey = "diffsr.family"
}

/// What `diffsr upscale` and `diffsr benchmark` need from a model, whatever its family.
public protocol Upscaler {
    /// The output size for an input of `width` × `height`.
    func outputSize(width: Int, height: Int) -> (width: Int, height: Int)
    /// The most images of one size upscaled in one call.
    var maximumBatch: Int { get }
    /// A one-line description of how it samples ("ddpm 200 steps, w 0.5, adain").
    var summary: String { get }
    /// Upscales RGB images of one size; image i's random stream is seeded with `seeds[i]` (the
    /// result does not depend on the batch). `progress` gets (completed, total) steps of the call
    /// and may cancel (`DiffusionSampling.Cancelled`).
    func upscale(_ images: [Image], seeds: [UInt64], progress: DiffusionSampling.Progress?) throws -> [Image]
}

extension SR3Upscaler: Upscaler {
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) {
        (width * model.description.scale, height * model.description.scale)
    }
    public var maximumBatch: Int { .max }
    public var summary: String {
        model.description.kind == .regression ? "regression (one network call)" : "\(sampler.rawValue) \(steps) steps, color fix \(colorCorrection.rawValue)"
    }
    public func upscale(_ images: [Image], seeds: [UInt64], progress: DiffusionSampling.Progress?) throws -> [Image] {
        var generators = seeds.map { TorchGenerator(seed: $0) }
        return try upscale(images, generators: &generators, progress: progress)
    }
}

extension StableSRUpscaler: Upscaler {
    public func outputSize(width: Int, height: Int) -> (width: Int, height: Int) { geometry(width: width, height: height).output }
    public var maximumBatch: Int { 1 }
    public var summary: String { settings.summary }
    public func upscale(_ images: [Image], seeds: [UInt64], progress: DiffusionSampling.Progress?) throws -> [Image] {
        precondition(images.count == seeds.count, "one seed per image")
        return try zip(images, seeds).map { try upscale($0, seed: $1, progress: progress) }
    }
}

/// A model file opened by family.
public enum LoadedModel {
    case sr3(SR3ModelFile)
    case stablesr(StableSRModel)

    public var family: ModelFamily {
        switch self {
        case .sr3: return .sr3
        case .stablesr: return .stablesr
        }
    }

    /// Opens a model: this project's `.safetensors` (its family from the metadata), a reference
    /// SR3 `*_gen.pth` with its JSON config, or StableSR's released Lightning `.ckpt` with its YAML
    /// and the CFW checkpoint with its YAML.
    public static func open(_ path: String, configuration: String? = nil, cfwCheckpoint: String? = nil,
                            cfwConfiguration: String? = nil, scale: Int? = nil) throws -> LoadedModel {
        let lower = path.lowercased()
        let yaml = configuration.map { $0.lowercased().hasSuffix(".yaml") || $0.lowercased().hasSuffix(".yml") } ?? false
        if lower.hasSuffix(".safetensors") {
            let file = try SafeTensorsFileMetadata(path: path)
            if file.family == .stablesr { return .stablesr(try StableSRModel(contentsOfFile: path)) }
        } else if yaml || cfwCheckpoint != nil {
            guard let configuration else {
                throw StableSRModel.LoadError("\(path): a StableSR checkpoint needs its YAML (--model-config)")
            }
            guard let cfwCheckpoint, let cfwConfiguration else {
                throw StableSRModel.LoadError("\(path): a StableSR checkpoint needs the CFW checkpoint and its YAML (--cfw-model, --cfw-config)")
            }
            return .stablesr(try StableSRModel(checkpoint: path, configuration: configuration, cfwCheckpoint: cfwCheckpoint,
                                               cfwConfiguration: cfwConfiguration))
        }
        return .sr3(try SR3ModelFile(contentsOfFile: path, configurationPath: configuration, scale: scale))
    }
}
