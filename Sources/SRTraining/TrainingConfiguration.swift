import Foundation
import SRDegradation
import SRDiffusion
import SRPipelines
import SRImage
import SRModels
import SRNN

/// A training run, read from JSON (snake_case keys). See `Configs/` for examples.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public struct Data: Codable, Sendable, Equatable {
        /// Folder of HR training images.
        public var train: String
        /// Folder of HR validation images (center crops are used).
        public var validation: String
        /// HR crop side (a multiple of `scale` and of the U-Net's size multiple).
        public var cropSize: Int
        public var batchSize: Int
        /// Crops whose luma standard deviation (0–1 scale) is below this are redrawn (sky, bokeh).
        public var flatThreshold: Float
        /// How the LR is made from the HR crop.
        public var degradation: ResizeMethod
        /// How the LR is upsampled into the condition.
        public var conditioning: ResizeMethod
        /// Validation images used (the first N, sorted by name).
        public var validationCount: Int
        /// Blind SR (SR3+): a degradation preset name or a configuration applied on the fly instead
        /// of `degradation` (nil: the plain `degradation` resize).
        public var degradationModel: DegradationConfiguration?
        /// SR3+: the largest condition-augmentation level τ_max drawn in training (default 0.5).
        public var augmentationMaximum: Double?
        /// Real-ESRGAN's training-pair pool size (180 there; a multiple of `batch_size`; 0 or absent:
        /// none). See `PatchSampler.poolSize`.
        public var poolSize: Int?
        /// With `degradation_model`: the share of clean pairs (the plain `degradation` resize; default 0).
        public var cleanProbability: Double?

        enum CodingKeys: String, CodingKey {
            case train, validation, cropSize = "crop_size", batchSize = "batch_size", flatThreshold = "flat_threshold"
            case degradation, conditioning, validationCount = "validation_count", degradationModel = "degradation_model"
            case augmentationMaximum = "augmentation_max", poolSize = "pool_size", cleanProbability = "clean_probability"
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            train = try c.decode(String.self, forKey: .train)
            validation = try c.decode(String.self, forKey: .validation)
            cropSize = try c.decode(Int.self, forKey: .cropSize)
            batchSize = try c.decode(Int.self, forKey: .batchSize)
            flatThreshold = try c.decode(Float.self, forKey: .flatThreshold)
            degradation = try c.decode(ResizeMethod.self, forKey: .degradation)
            conditioning = try c.decode(ResizeMethod.self, forKey: .conditioning)
            validationCount = try c.decode(Int.self, forKey: .validationCount)
            augmentationMaximum = try c.decodeIfPresent(Double.self, forKey: .augmentationMaximum)
            poolSize = try c.decodeIfPresent(Int.self, forKey: .poolSize)
            cleanProbability = try c.decodeIfPresent(Double.self, forKey: .cleanProbability)
            // A preset name or a full configuration.
            if let name = try? c.decode(String.self, forKey: .degradationModel) {
                guard let preset = DegradationConfiguration.presets[name] else {
                    throw DecodingError.dataCorruptedError(forKey: .degradationModel, in: c, debugDescription: DegradationError.unknownPreset(name).description)
                }
                degradationModel = preset
            } else {
                degradationModel = try c.decodeIfPresent(DegradationConfiguration.self, forKey: .degradationModel)
            }
        }
    }

    public struct Optimization: Codable, Sendable, Equatable {
        public var learningRate: Float
        public var weightDecay: Float
        public var warmupSteps: Int
        /// Global gradient-norm clip (0: none).
        public var gradientClip: Float
        public var emaDecay: Float
        /// After the warm-up: `constant` (the default) or `cosine` decay to
        /// `learningRateMinimumFactor` × `learningRate` at the run's last step.
        public var learningRateSchedule: ScheduleKind?
        /// The cosine schedule's final fraction of the base rate (default 0.05).
        public var learningRateMinimumFactor: Float?
        /// Adam's (β₁, β₂) (default 0.9, 0.999; StableSR's CFW stage uses 0.5, 0.9).
        public var betas: [Float]?

        public enum ScheduleKind: String, Codable, Sendable {
            case constant, cosine
        }

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", weightDecay = "weight_decay", warmupSteps = "warmup_steps"
            case gradientClip = "gradient_clip", emaDecay = "ema_decay"
            case learningRateSchedule = "lr_schedule", learningRateMinimumFactor = "lr_minimum_factor", betas
        }

        /// The learning rate over a run of `totalSteps` steps. The cosine is a function of the step
        /// alone, so a resumed run (or one whose `steps` was raised) continues on the same curve.
        public func schedule(totalSteps: Int) -> LearningRateSchedule {
            switch learningRateSchedule ?? .constant {
            case .constant: return .warmup(warmupSteps: warmupSteps)
            case .cosine: return .cosine(warmupSteps: warmupSteps, totalSteps: totalSteps, minimumFactor: learningRateMinimumFactor ?? 0.05)
            }
        }
    }

    public var name: String
    public var mode: SR3ModelDescription.Kind
    public var scale: Int
    public var unet: SR3UNetConfiguration
    public var betaSchedule: BetaScheduleConfiguration
    public var data: Data
    public var optimization: Optimization
    public var steps: Int
    public var logEvery: Int
    public var validateEvery: Int
    public var checkpointEvery: Int
    /// Sampler steps (DPM-Solver++) for validation samples.
    public var validationSamplerSteps: Int
    public var seed: UInt64
    /// Output folder: checkpoints, log, samples, the final model.
    public var output: String
    /// `sr3` mode: what the network predicts (nil: ε, the reference's objective).
    public var prediction: SR3ModelDescription.Prediction?
    /// A model or checkpoint (.safetensors of this project, same U-Net) whose weights start the run
    /// instead of a random initialization (ignored when resuming).
    public var initializeFrom: String?

    enum CodingKeys: String, CodingKey {
        case name, mode, scale, unet, betaSchedule = "beta_schedule", data, optimization, steps
        case logEvery = "log_every", validateEvery = "validate_every", checkpointEvery = "checkpoint_every"
        case validationSamplerSteps = "validation_sampler_steps", seed, output, prediction, initializeFrom = "initialize_from"
    }

    /// What the training loop takes of this configuration.
    public var loopSettings: TrainingLoop.Settings {
        TrainingLoop.Settings(optimization: optimization, steps: steps, logEvery: logEvery, validateEvery: validateEvery,
                              checkpointEvery: checkpointEvery, output: output)
    }

    public init(contentsOfFile path: String) throws {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw TrainingError.configuration("\(path): cannot read the training configuration")
        }
        do {
            self = try JSONDecoder().decode(TrainingConfiguration.self, from: Foundation.Data(strippingJSONComments(String(decoding: bytes, as: UTF8.self)).utf8))
        } catch {
            throw TrainingError.configuration("\(path): \(error)")
        }
        try validate()
    }

    public func validate() throws {
        try unet.validate()
        func fail(_ why: String) -> TrainingError { .configuration(why) }
        let multiple = 1 << (unet.channelMultiplier.count - 1)
        guard scale >= 1, data.cropSize % scale == 0, data.cropSize % multiple == 0 else {
            throw fail("crop_size \(data.cropSize) must be a multiple of the scale \(scale) and of \(multiple)")
        }
        guard unet.inChannel == 6, unet.outChannel == 3 else { throw fail("the U-Net must take 6 channels and give 3") }
        guard data.batchSize >= 1, steps >= 1, logEvery >= 1, validateEvery >= 1, checkpointEvery >= 1 else {
            throw fail("batch_size, steps and the intervals must be positive")
        }
        try data.validate()
        try optimization.validate()
    }
}

extension TrainingConfiguration.Data {
    /// The checks of the data options every training configuration shares.
    func validate() throws {
        if let clean = cleanProbability, !(0...1).contains(clean) { throw TrainingError.configuration("clean_probability \(clean) must be in [0, 1]") }
        if let pool = poolSize, pool < 0 || pool % batchSize != 0 {
            throw TrainingError.configuration("pool_size \(pool) must be a non-negative multiple of batch_size \(batchSize)")
        }
    }
}

extension TrainingConfiguration.Optimization {
    /// The checks of the optimizer options every training configuration shares.
    func validate() throws {
        guard learningRate > 0, (0..<1).contains(emaDecay) else {
            throw TrainingError.configuration("learning_rate must be positive and ema_decay in [0, 1)")
        }
        if let betas, betas.count != 2 || !betas.allSatisfy({ (0..<1).contains($0) }) {
            throw TrainingError.configuration("betas must be two values in [0, 1)")
        }
        if let minimum = learningRateMinimumFactor, !(0...1).contains(minimum) {
            throw TrainingError.configuration("lr_minimum_factor \(minimum) must be in [0, 1]")
        }
    }
}

extension PatchSampler {
    /// The sampler of a configuration's data: crops, the degradation model with its share of clean
    /// pairs, and the pair pool.
    convenience init(data d: TrainingConfiguration.Data, scale: Int) throws {
        try self.init(folder: d.train, cropSize: d.cropSize, scale: scale, flatThreshold: d.flatThreshold, degradation: d.degradation,
                      conditioning: d.conditioning)
        degradationModel = d.degradationModel.map { RealESRGANDegradation(configuration: $0, scale: scale) }
        poolSize = d.poolSize ?? 0
        cleanProbability = d.cleanProbability ?? 0
    }
}

/// Errors of training.
public enum TrainingError: Error, CustomStringConvertible {
    case configuration(String)
    case data(String)
    case diverged(step: Int, lastCheckpoint: String?)

    public var description: String {
        switch self {
        case .configuration(let m), .data(let m): return m
        case .diverged(let step, let checkpoint):
            return "training diverged at step \(step) (loss is NaN or infinite); the last good checkpoint is "
                + (checkpoint ?? "none (no checkpoint was written yet)")
        }
    }
}
