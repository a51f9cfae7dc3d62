import Foundation
import SRDiffusion
import SRImage
import SRModels

/// Everything needed to run an SR3 checkpoint besides its weights: the network configuration, the
/// noise schedule it was trained with, its upscaling factor and how the LR image is upsampled into
/// the condition. Stored as JSON in this project's safetensors metadata (key `diffsr.model`).
public struct SR3ModelDescription: Codable, Sendable, Equatable {
    /// `sr3` (ε-prediction diffusion) or `regression` (the same U-Net predicting the HR image directly).
    public enum Kind: String, Codable, Sendable { case sr3, regression }

    public var kind: Kind
    public var unet: SR3UNetConfiguration
    public var betaSchedule: BetaScheduleConfiguration
    /// Upscaling factor (HR size / LR size).
    public var scale: Int
    /// The resampling that makes the condition from the LR image (the reference prepares its data
    /// with Pillow bicubic).
    public var conditioning: ResizeMethod
    /// What an `sr3` network predicts (nil: ε, as the reference).
    public var prediction: Prediction?
    /// SR3+ models: the default test-time augmentation level t_eval (a fraction of the schedule in
    /// [0, 1]), chosen by the trainer's validation (the level of best PSNR-Y on degraded validation
    /// crops) or recorded later with `diffsr convert --default-aug-level`; nil: 0. `--aug-level`
    /// overrides it.
    public var augmentationLevel: Double?
    /// The sampler, step count and color correction this model is best used with (measured on
    /// validation crops and recorded by `diffsr convert --default-…`); nil or nil fields: the
    /// tool's defaults (`SamplingDefaults.tool`). Command-line flags override them.
    public var sampling: SamplingDefaults?

    /// The parameterization of an `sr3` network's output.
    public enum Prediction: String, Codable, Sendable, CaseIterable {
        /// The noise ε (SR3, Ho et al.).
        case epsilon
        /// The clean image x₀ (a deliberate deviation for this project's small models: it trains
        /// as fast as the Regression model and can start from its weights; the samplers receive
        /// ε̂ = (x_t − √γ·x̂₀)/√(1 − γ)).
        case x0
    }

    enum CodingKeys: String, CodingKey {
        case kind, unet, betaSchedule = "beta_schedule", scale, conditioning, prediction, augmentationLevel = "augmentation_level", sampling
    }

    public init(kind: Kind = .sr3, unet: SR3UNetConfiguration, betaSchedule: BetaScheduleConfiguration, scale: Int,
                conditioning: ResizeMethod = .pilBicubic) {
        self.kind = kind
        self.unet = unet
        self.betaSchedule = betaSchedule
        self.scale = scale
        self.conditioning = conditioning
    }

    /// The metadata key under which safetensors files carry the description.
    public static let metadataKey = "diffsr.model"

    /// Reads a reference SR3 config (JSON with `//` comments): `model.unet`,
    /// `model.beta_schedule.val` (else `.train`), `model.diffusion.image_size`, and the scale from
    /// `datasets.val` (`r_resolution / l_resolution`), unless `scale` is given.
    public init(referenceConfigAt path: String, scale: Int? = nil) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SR3ConfigurationError.unreadable(path: path, reason: "no such file or unreadable")
        }
        let text = String(decoding: data, as: UTF8.self)
        let unet = try SR3UNetConfiguration(referenceConfigText: text, name: path)
        guard let root = try? JSONSerialization.jsonObject(with: Data(strippingJSONComments(text).utf8)) as? [String: Any],
              let model = root["model"] as? [String: Any], let schedules = model["beta_schedule"] as? [String: Any],
              let schedule = (schedules["val"] ?? schedules["train"]) as? [String: Any] else {
            throw SR3ConfigurationError.unreadable(path: path, reason: "no model.beta_schedule.val or .train")
        }
        let betaSchedule: BetaScheduleConfiguration
        do {
            betaSchedule = try JSONDecoder().decode(BetaScheduleConfiguration.self, from: JSONSerialization.data(withJSONObject: schedule))
        } catch {
            throw SR3ConfigurationError.unreadable(path: path, reason: "model.beta_schedule: \(error)")
        }
        var factor = scale
        if factor == nil, let datasets = root["datasets"] as? [String: Any],
           let val = (datasets["val"] ?? datasets["train"]) as? [String: Any],
           let low = (val["l_resolution"] as? NSNumber)?.intValue, let high = (val["r_resolution"] as? NSNumber)?.intValue,
           low > 0, high % low == 0 {
            factor = high / low
        }
        guard let factor, factor >= 1 else {
            throw SR3ConfigurationError.unreadable(path: path, reason: "cannot tell the scale (no datasets l_resolution/r_resolution); pass --scale")
        }
        self.init(unet: unet, betaSchedule: betaSchedule, scale: factor)
    }

    /// The JSON stored in safetensors metadata.
    public func encodedJSON() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public init(json: String) throws {
        self = try JSONDecoder().decode(SR3ModelDescription.self, from: Data(json.utf8))
    }

    /// The sampling settings this model runs with when the user gives none: its recorded
    /// `sampling` defaults, each missing field from `SamplingDefaults.tool`.
    public var effectiveSampling: SamplingDefaults { (sampling ?? SamplingDefaults()).filled(from: .tool) }
}
