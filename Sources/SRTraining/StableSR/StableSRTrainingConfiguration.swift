import Foundation
import SRDiffusion
import SRModels
import SRPipelines

/// A StableSR training run, one stage of the reference's method (`shared/reference/stablesr.md` §7),
/// read from JSON (snake_case keys; `"stage"` tells it from an SR3 configuration). See
/// `Configs/stablesr-x4-*.json`.
///
/// - `prior` (stage 0, which the reference did not need: it starts from SD 2.1): a latent U-Net
///   without structure conditioning learns the latents of HR crops unconditionally.
/// - `encoder` (stage 1): the prior frozen (`initialize_from`), the time-aware encoder and the
///   U-Net's SPADE layers learn from degraded pairs; the result is a StableSR model file.
public struct StableSRTrainingConfiguration: Codable, Sendable, Equatable {
    public enum Stage: String, Codable, Sendable { case prior, encoder }

    /// The autoencoder: TAEF2's configuration and its two released state dicts.
    public struct Autoencoder: Codable, Sendable, Equatable {
        public var configuration: TinyAutoencoderConfiguration
        public var encoder: String
        public var decoder: String
    }

    public var name: String
    public var stage: Stage
    /// The upscaling factor (stage 1 and 2 pairs).
    public var scale: Int
    /// The latent U-Net, in the reference YAML's keys (`semb_channels` 0 for the prior).
    public var unet: LatentUNetConfiguration
    /// The time-aware encoder (stage 1).
    public var timeAwareEncoder: TimeAwareEncoderConfiguration?
    public var autoencoder: Autoencoder
    /// Tokens of the learned constant context the U-Net's cross-attention attends to (the released
    /// models attend to the empty prompt's 77 tokens).
    public var contextLength: Int
    public var parameterization: LatentParameterization
    /// ldm's "linear" schedule: β = linspace(√start, √end, timesteps)².
    public var linearStart: Double
    public var linearEnd: Double
    public var timesteps: Int
    /// The diffusion latent is `latent_scale` × the autoencoder's latent (1 / its standard deviation
    /// on training crops, as ldm's scale_factor).
    public var latentScale: Double
    /// Stage 1: the prior's model file (stage prior's model.safetensors or best.safetensors).
    public var initializeFrom: String?
    /// Stage 1: the sampling defaults recorded in the exported model (unset: the crop size as
    /// input size, DDIM, w 0, AdaIN; validation samples with them).
    public var defaults: StableSRSettings.Recorded?
    public var data: TrainingConfiguration.Data
    public var optimization: TrainingConfiguration.Optimization
    public var steps: Int
    public var logEvery: Int
    public var validateEvery: Int
    public var checkpointEvery: Int
    /// Sampler steps (DDIM) for validation samples.
    public var validationSamplerSteps: Int
    public var seed: UInt64
    public var output: String

    enum CodingKeys: String, CodingKey {
        case name, stage, scale, unet, timeAwareEncoder = "time_aware_encoder", autoencoder, contextLength = "context_length"
        case parameterization, linearStart = "linear_start", linearEnd = "linear_end", timesteps, latentScale = "latent_scale"
        case initializeFrom = "initialize_from", defaults, data, optimization, steps, logEvery = "log_every", validateEvery = "validate_every"
        case checkpointEvery = "checkpoint_every", validationSamplerSteps = "validation_sampler_steps", seed, output
    }

    /// Whether a JSON configuration is a StableSR one (it has `"stage"`).
    public static func isStableSR(contentsOfFile path: String) -> Bool {
        guard let bytes = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: Data(strippingJSONComments(String(decoding: bytes, as: UTF8.self)).utf8))
                as? [String: Any] else { return false }
        return object["stage"] != nil
    }

    public init(contentsOfFile path: String) throws {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw TrainingError.configuration("\(path): cannot read the training configuration")
        }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(strippingJSONComments(String(decoding: bytes, as: UTF8.self)).utf8))
        } catch let error as LatentModelConfigurationError {
            throw TrainingError.configuration("\(path): \(error.message)")
        } catch {
            throw TrainingError.configuration("\(path): \(error)")
        }
        do { try validate() } catch let error as TrainingError {
            throw TrainingError.configuration("\(path): \(error)")
        }
    }

    /// What the training loop takes of this configuration.
    public var loopSettings: TrainingLoop.Settings {
        TrainingLoop.Settings(optimization: optimization, steps: steps, logEvery: logEvery, validateEvery: validateEvery,
                              checkpointEvery: checkpointEvery, output: output)
    }

    /// The training noise schedule.
    public var betaSchedule: BetaScheduleConfiguration {
        BetaScheduleConfiguration(schedule: .quad, stepCount: timesteps, linearStart: linearStart, linearEnd: linearEnd)
    }

    public func validate() throws {
        func fail(_ why: String) -> TrainingError { .configuration(why) }
        do {
            try unet.validate()
            try autoencoder.configuration.validate()
            try timeAwareEncoder?.validate()
        } catch let error as LatentModelConfigurationError { throw fail(error.message) }
        guard unet.inChannels == autoencoder.configuration.latentChannels, unet.outChannels == unet.inChannels else {
            throw fail("the U-Net's in_channels and out_channels must be the autoencoder's latent channels (\(autoencoder.configuration.latentChannels))")
        }
        switch stage {
        case .prior:
            guard !unet.hasStructureConditioning, timeAwareEncoder == nil else {
                throw fail("stage prior: the U-Net has no structure conditioning (semb_channels 0) and there is no time_aware_encoder")
            }
        case .encoder:
            guard let encoder = timeAwareEncoder, unet.hasStructureConditioning, encoder.outChannels == unet.sembChannels,
                  encoder.inChannels == unet.inChannels, encoder.channelMult.count == unet.channelMult.count else {
                throw fail("stage encoder: needs time_aware_encoder with in_channels the latent's, out_channels the U-Net's semb_channels (> 0) and as many levels as the U-Net")
            }
            guard initializeFrom != nil else { throw fail("stage encoder: initialize_from names the prior (stage prior's model file)") }
            guard data.degradationModel != nil else { throw fail("stage encoder: data.degradation_model makes the training pairs") }
        }
        let latentMultiple = 8 * unet.sizeMultiple
        guard data.cropSize % latentMultiple == 0, data.cropSize % scale == 0 else {
            throw fail("crop_size \(data.cropSize) must be a multiple of \(latentMultiple) (8 × the U-Net's size multiple) and of the scale \(scale)")
        }
        guard contextLength >= 1, latentScale > 0, timesteps >= 2, linearStart > 0, linearEnd > linearStart, linearEnd < 1 else {
            throw fail("context_length, latent_scale and the schedule must be positive (0 < linear_start < linear_end < 1)")
        }
        guard data.batchSize >= 1, steps >= 1, logEvery >= 1, validateEvery >= 1, checkpointEvery >= 1, validationSamplerSteps >= 1 else {
            throw fail("batch_size, steps, validation_sampler_steps and the intervals must be positive")
        }
        if let clean = data.cleanProbability, !(0...1).contains(clean) { throw fail("clean_probability \(clean) must be in [0, 1]") }
        if let pool = data.poolSize, pool < 0 || pool % data.batchSize != 0 {
            throw fail("pool_size \(pool) must be a non-negative multiple of batch_size \(data.batchSize)")
        }
        guard optimization.learningRate > 0, (0..<1).contains(optimization.emaDecay) else {
            throw fail("learning_rate must be positive and ema_decay in [0, 1)")
        }
    }
}
