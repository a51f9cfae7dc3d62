import Foundation
import SRDiffusion
import SRImage
import SRModels
import SRNN
import SRTensor

/// StableSR stage 0 (`"stage": "prior"`): the latent diffusion prior, trained unconditionally on
/// HR crops, as latent diffusion trains SD (`p_losses` of ldm's `DDPM`, the loss StableSR's stage 1
/// keeps, §7.1):
///
///     z₀ = latent_scale · TAEF2(HR crop)           (frozen, deterministic encoder)
///     t ~ U{0 … T−1} per image, ε ~ N(0, I)
///     x_t = √ᾱ_t·z₀ + √(1−ᾱ_t)·ε
///     loss = mean (f(x_t, t, context) − target)²,  target ε, or v = √ᾱ_t·ε − √(1−ᾱ_t)·z₀
///
/// with the learned constant context trained with the U-Net. Crops come from `PatchSampler` (random
/// position, flip/rotation, flat crops redrawn), so batches are functions of the seed and the step.
/// Validation: the same loss with the EMA weights on the validation crops' latents at fixed
/// timesteps and noise (lower is better; the best weights go to `best.safetensors`), and a few
/// unconditional DDIM samples decoded to `samples/`.
public final class LatentPriorTrainer: TrainingTask {
    public let configuration: StableSRTrainingConfiguration
    public let prior: LatentPrior
    public var network: Module { prior }
    public private(set) var loop: TrainingLoop!
    public var step: Int { loop.step }
    let autoencoder: TinyAutoencoder
    let schedule: NoiseSchedule
    let sampler: PatchSampler
    private var prefetcher: BatchPrefetcher?
    /// The validation crops' scaled latents, one `[1, h, w, C]` each.
    let validationLatents: [Tensor]
    /// Unconditional samples drawn at each validation.
    static let validationSampleCount = 2

    public init(configuration: StableSRTrainingConfiguration, resumeFrom checkpoint: String? = nil) throws {
        precondition(configuration.stage == .prior, "LatentPriorTrainer trains stage prior")
        self.configuration = configuration
        var generator = TorchGenerator(seed: configuration.seed)
        prior = try LatentPrior(configuration: configuration.unet, contextLength: configuration.contextLength, using: &generator)
        let autoencoder = try Self.loadAutoencoder(configuration.autoencoder, fusion: false)
        self.autoencoder = autoencoder
        schedule = NoiseSchedule(configuration.betaSchedule)
        let d = configuration.data
        sampler = try PatchSampler(folder: d.train, cropSize: d.cropSize, scale: configuration.scale, flatThreshold: d.flatThreshold,
                                   degradation: d.degradation, conditioning: d.conditioning)
        sampler.poolSize = d.poolSize ?? 0
        let crops = try Trainer.validationCrops(folder: d.validation, count: d.validationCount, cropSize: d.cropSize)
        let scale = Float(configuration.latentScale)
        validationLatents = crops.map { crop in
            withoutGradients { autoencoder.encode(Self.tensor(crop)).mean } * scale
        }
        loop = try TrainingLoop(settings: configuration.loopSettings, task: self, resumeFrom: checkpoint)
    }

    /// The frozen TAEF2 of a configuration, loaded from its state dicts.
    static func loadAutoencoder(_ a: StableSRTrainingConfiguration.Autoencoder, fusion: Bool) throws -> TinyAutoencoder {
        var none = WeightsToBeLoaded()
        let model = try TinyAutoencoder(configuration: a.configuration, fusion: fusion, using: &none)
        do { try model.loadPyTorch(encoder: a.encoder, decoder: a.decoder) } catch let error as ParameterUpdateError {
            throw TrainingError.configuration("autoencoder \(a.encoder), \(a.decoder): \(error)")
        }
        model.freeze { _ in true }
        return model
    }

    /// An RGB image as a `[1, H, W, 3]` tensor in [−1, 1].
    static func tensor(_ image: Image) -> Tensor {
        Tensor(shape: [1, image.height, image.width, 3], values: image.pixels.map { $0 * 2 - 1 })
    }

    public func train(report: TrainingLoop.Report? = nil, shouldStop: () -> Bool = { false }) throws {
        try loop.train(report: report, shouldStop: shouldStop)
    }

    public func startBatches(at step: Int) {
        prefetcher = BatchPrefetcher(sampler: sampler, batchSize: configuration.data.batchSize, seed: configuration.seed, startingAt: step)
    }

    public func stopBatches() {
        prefetcher?.stop()
        prefetcher = nil
    }

    /// The noisy latents, timesteps and targets of a step, drawn from `generator`.
    func diffusionInputs(_ z0: Tensor, using generator: inout TorchGenerator) -> (x: Tensor, timesteps: Tensor, target: Tensor) {
        let n = z0.shape[0]
        let t = (0..<n).map { _ in Int(generator.next() % UInt64(schedule.stepCount)) }
        let noise = Tensor.randomNormal(z0.shape, order: .nchw, using: &generator)
        let alphas = t.map { Float(schedule.alphasCumprod[$0]) }
        let signal = Tensor(shape: [n, 1, 1, 1], values: alphas.map { $0.squareRoot() })
        let sigma = Tensor(shape: [n, 1, 1, 1], values: alphas.map { (1 - $0).squareRoot() })
        let x = z0 * signal + noise * sigma
        let target = configuration.parameterization == .velocity ? noise * signal - z0 * sigma : noise
        return (x, Tensor(shape: [n], values: t.map(Float.init)), target)
    }

    public func lossAndGradients(step: Int) -> (Float, [String: Tensor]) {
        let batch = prefetcher?.batch(step) ?? sampler.batch(step, size: configuration.data.batchSize, seed: configuration.seed)
        let z0 = withoutGradients { autoencoder.encode(batch.highResolution).mean } * Float(configuration.latentScale)
        var generator = TorchGenerator(seed: configuration.seed &+ 0x5EED &+ UInt64(step) &* 1_000_003)
        let (x, timesteps, target) = diffusionInputs(z0, using: &generator)
        let (loss, gradients) = valueAndGradient(model: prior) { model in Tensor.mseLoss(model(x, timesteps: timesteps), target) }
        return (loss.scalar, gradients)
    }

    /// A prior holding `weights` (EMA), for validation.
    func prior(with weights: [String: Tensor]) throws -> LatentPrior {
        var none = WeightsToBeLoaded()
        let copy = try LatentPrior(configuration: configuration.unet, contextLength: configuration.contextLength, using: &none)
        try copy.update(parameters: weights)
        return copy
    }

    public func validate(weights: [String: Tensor], step: Int) throws -> [String: Any] {
        let model = try prior(with: weights)
        // The loss at fixed timesteps spread over the schedule, with fixed noise.
        var total = 0.0, count = 0
        for (index, z0) in validationLatents.enumerated() {
            var generator = TorchGenerator(seed: configuration.seed &+ 0xFA11 &+ UInt64(index))
            for _ in 0..<4 {
                let (x, timesteps, target) = diffusionInputs(z0, using: &generator)
                total += Double(withoutGradients { withTrainingMode(false) { Tensor.mseLoss(model(x, timesteps: timesteps), target).scalar } })
                count += 1
            }
        }
        // Unconditional samples, decoded.
        let first = validationLatents[0]
        let sampler = DDIMSampler(schedule: schedule, steps: min(configuration.validationSamplerSteps, schedule.stepCount), clipsDenoised: false,
                                  respacing: .spaceTimesteps, precision: .float32)
        for index in 0..<Self.validationSampleCount {
            var generator = TorchGenerator(seed: configuration.seed &+ 0x5A4D &+ UInt64(index))
            let start = Tensor.randomNormal(first.shape, order: .nchw, using: &generator)
            let z = try DiffusionSampling.sample(
                from: start, sampler: sampler, prediction: configuration.parameterization == .velocity ? .velocity : .epsilon,
                draw: { Tensor.randomNormal($0, order: .nchw, using: &generator) },
                denoiser: { x, step in
                    withTrainingMode(false) { model(x, timesteps: Tensor(shape: [x.shape[0]], repeating: Float(step.timestep))) }
                })
            let decoded = withoutGradients { autoencoder.decode(z * Float(1 / configuration.latentScale)) }
            let image = Image(width: decoded.shape[2], height: decoded.shape[1], channels: 3,
                              pixels: decoded.scalars.map { Swift.min(Swift.max(($0 + 1) / 2, 0), 1) })
            try image.write(toFile: configuration.output + "/samples/step\(step)_\(index).png")
        }
        return ["step": step, "event": "validation", "validation_loss": total / Double(count)]
    }

    public func score(of entry: [String: Any]) -> Double? { (entry["validation_loss"] as? Double).map { -$0 } }

    public func checkpointMetadata() throws -> [String: String] {
        [LatentPriorDescription.metadataKey: String(decoding: try JSONEncoder().encode(LatentPriorDescription(configuration)), as: UTF8.self)]
    }

    public func restore(checkpointMetadata: [String: String]) {}

    public func export(weights: [String: Tensor], to path: String) throws {
        try LatentPriorDescription(configuration).write(weights, to: path)
    }
}
