import Foundation
import SRDegradation
import SRDiffusion
import SRImage
import SRMetrics
import SRModels
import SRNN
import SRPipelines
import SRTensor

/// Trains a stage of the StableSR model made here (`StableSRTrainingConfiguration`), with the loss of
/// latent diffusion (`p_losses` of ldm's `DDPM`, which StableSR's stage 1 keeps, §7.1):
///
///     z₀ = latent_scale · TAEF2(HR crop)           (frozen, deterministic encoder)
///     t ~ U{0 … T−1} per image, ε ~ N(0, I)
///     x_t = √ᾱ_t·z₀ + √(1−ᾱ_t)·ε
///     loss = mean (f(x_t, t) − target)²,  target ε, or v = √ᾱ_t·ε − √(1−ᾱ_t)·z₀
///
/// - `prior` (stage 0): f is the U-Net without SPADE and the learned context, all trained, on HR crops.
///   Validation: the loss with the EMA weights on the validation crops' latents at fixed timesteps
///   and noise (lower is better), and unconditional DDIM samples decoded to `samples/`.
/// - `encoder` (stage 1): f is the U-Net with SPADE fed by the time-aware encoder on the LR latent
///   z_lr = latent_scale · TAEF2(LR bicubic-upsampled to the crop) at the same t. The prior's
///   weights are loaded and frozen (its context too); only the encoder and the SPADE layers train,
///   as the reference's stage 1. Pairs come from the degradation model on the fly (with a share of
///   clean pairs, `clean_probability`). Validation: the StableSR pipeline with the EMA weights
///   (the recorded defaults) on fixed degradations of the validation crops, PSNR-Y against the HR
///   (higher is better); the exported model is a StableSR file for `diffsr upscale --model`.
///
/// Crops come from `PatchSampler`, so batches are functions of the seed and the step.
public final class StableSRTrainer: TrainingTask {
    public let configuration: StableSRTrainingConfiguration
    public let denoiser: LatentDenoiser
    public var network: Module { denoiser }
    public private(set) var loop: TrainingLoop!
    let autoencoder: TinyAutoencoder
    let schedule: NoiseSchedule
    let sampler: PatchSampler
    private var prefetcher: BatchPrefetcher?
    /// The validation crops (HR).
    let validation: [Image]
    /// Stage prior: the validation crops' scaled latents, one `[1, h, w, C]` each.
    let validationLatents: [Tensor]
    /// Stage prior: unconditional samples drawn at each validation.
    static let validationSampleCount = 2

    public init(configuration: StableSRTrainingConfiguration, resumeFrom checkpoint: String? = nil) throws {
        precondition(configuration.stage != .cfw, "stage cfw trains with CFWTrainer")
        self.configuration = configuration
        var generator = TorchGenerator(seed: configuration.seed)
        denoiser = try LatentDenoiser(configuration: configuration.unet, encoder: configuration.timeAwareEncoder,
                                      contextLength: configuration.contextLength, using: &generator)
        let autoencoder = try Self.loadAutoencoder(configuration.autoencoder, fusion: false)
        self.autoencoder = autoencoder
        schedule = NoiseSchedule(configuration.betaSchedule)
        let d = configuration.data
        sampler = try PatchSampler(data: d, scale: configuration.scale)
        validation = try Trainer.validationCrops(folder: d.validation, count: d.validationCount, cropSize: d.cropSize)
        let scale = Float(configuration.latentScale)
        validationLatents = configuration.stage == .prior
            ? validation.map { crop in withoutGradients { autoencoder.encode(Self.tensor(crop)).mean } * scale } : []
        if configuration.stage == .encoder {
            if checkpoint == nil { try loadPrior() }
            // The reference's stage 1: the time-aware encoder and SPADE train, the rest is frozen.
            denoiser.freeze { !($0.hasPrefix("structcond_stage_model.") || $0.contains(".spade.")) }
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

    /// Stage 1: the prior's weights (U-Net and context) from `initialize_from`, which must have been
    /// trained for this configuration's U-Net (without SPADE), autoencoder, parameterization,
    /// schedule and latent scale. The SPADE layers and the encoder keep their initialization.
    func loadPrior() throws {
        let path = configuration.initializeFrom!
        let (description, weights) = try LatentPriorDescription.read(contentsOfFile: path)
        var expected = LatentPriorDescription(configuration)
        expected.unet.sembChannels = 0
        guard description == expected else {
            throw TrainingError.configuration("initialize_from \(path): the prior was trained with another U-Net, context, autoencoder, parameterization, schedule or latent scale than this configuration's (semb_channels aside)")
        }
        let own = Set(denoiser.parameterDictionary().keys)
        let missing = own.subtracting(weights.keys).filter { !($0.hasPrefix("structcond_stage_model.") || $0.contains(".spade.")) }
        guard missing.isEmpty else {
            throw TrainingError.configuration("initialize_from \(path): the prior lacks \(missing.sorted().prefix(5).joined(separator: ", "))")
        }
        do { try denoiser.update(parameters: weights, strict: false) } catch let error as ParameterUpdateError {
            throw TrainingError.configuration("initialize_from \(path): \(error)")
        }
    }

    /// An RGB image as a `[1, H, W, 3]` tensor in [−1, 1].
    static func tensor(_ image: Image) -> Tensor {
        Tensor(shape: [1, image.height, image.width, 3], values: image.pixels.map { $0 * 2 - 1 })
    }


    public func startBatches(at step: Int) {
        prefetcher = BatchPrefetcher(sampler: sampler, batchSize: configuration.data.batchSize, seed: configuration.seed, startingAt: step)
    }

    public func stopBatches() {
        prefetcher?.stop()
        prefetcher = nil
    }

    /// Scaled latents of images in [−1, 1].
    func latents(_ images: Tensor) -> Tensor { withoutGradients { autoencoder.encode(images).mean } * Float(configuration.latentScale) }

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
        let z0 = latents(batch.highResolution)
        let condition = configuration.stage == .encoder ? latents(batch.condition) : nil
        var generator = TorchGenerator(seed: configuration.seed &+ 0x5EED &+ UInt64(step) &* 1_000_003)
        let (x, timesteps, target) = diffusionInputs(z0, using: &generator)
        let (loss, gradients) = valueAndGradient(model: denoiser) { model in
            Tensor.mseLoss(model(x, timesteps: timesteps, condition: condition), target)
        }
        return (loss.scalar, gradients)
    }

    // MARK: - Validation

    /// The networks holding `weights` (EMA).
    func denoiser(with weights: [String: Tensor]) throws -> LatentDenoiser {
        var none = WeightsToBeLoaded()
        let copy = try LatentDenoiser(configuration: configuration.unet, encoder: configuration.timeAwareEncoder,
                                      contextLength: configuration.contextLength, using: &none)
        try copy.update(parameters: weights)
        return copy
    }

    public func validate(weights: [String: Tensor], step: Int) throws -> [String: Any] {
        switch configuration.stage {
        case .prior: try validatePrior(try denoiser(with: weights), step: step)
        case .encoder, .cfw: try validateUpscaling(weights: weights, step: step)
        }
    }

    func validatePrior(_ model: LatentDenoiser, step: Int) throws -> [String: Any] {
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
            try Image(signedTensor: decoded).write(toFile: configuration.output + "/samples/step\(step)_\(index).png")
        }
        return ["step": step, "event": "validation", "validation_loss": total / Double(count)]
    }

    /// The recorded sampling defaults of the exported model.
    var recordedDefaults: StableSRSettings.Recorded {
        var defaults = configuration.defaults ?? StableSRSettings.Recorded()
        if defaults.inputSize == nil { defaults.inputSize = configuration.data.cropSize }
        if defaults.sampler == nil { defaults.sampler = .ddim }
        if defaults.steps == nil { defaults.steps = configuration.validationSamplerSteps }
        if defaults.decoderWeight == nil { defaults.decoderWeight = 0 }
        return defaults
    }

    /// Stage 1: the model file's networks with `weights`: TAEF2 as first stage and as the CFW
    /// autoencoder (its fusion layers untrained until stage 2, skipped at w = 0).
    func model(with weights: [String: Tensor]) throws -> StableSRModel {
        let networks = try denoiser(with: weights)
        var fusionInitialization = TorchGenerator(seed: configuration.seed &+ 0xCF)
        let cfw = try TinyAutoencoder(configuration: configuration.autoencoder.configuration, fusion: true, using: &fusionInitialization)
        try cfw.update(parameters: autoencoder.parameterDictionary().mapValues(\.value), strict: false)
        let tiny = LatentAutoencoderConfiguration.tiny(configuration.autoencoder.configuration)
        let c = StableSRConfiguration(unet: configuration.unet, encoder: configuration.timeAwareEncoder!, autoencoder: tiny,
                                      parameterization: configuration.parameterization, linearStart: configuration.linearStart,
                                      linearEnd: configuration.linearEnd, timesteps: configuration.timesteps,
                                      scaleFactor: configuration.latentScale)
        return StableSRModel(configuration: c, cfwConfiguration: tiny, unet: networks.unet, encoder: networks.encoder!, firstStage: autoencoder,
                             cfw: cfw, context: networks.context.value, defaults: recordedDefaults)
    }

    func validateUpscaling(weights: [String: Tensor], step: Int) throws -> [String: Any] {
        let upscaler = StableSRUpscaler(model: try model(with: weights))
        var psnr = 0.0
        for (index, hr) in validation.enumerated() {
            // A fixed degradation of each crop, as SR3+'s validation.
            var g = TorchGenerator(seed: configuration.seed &+ 0xDE6 &+ UInt64(index))
            let lr = try RealESRGANDegradation.apply(hr, with: sampler.degradationModel!.sampleParameters(using: &g)).lowResolution
            let sr = try withTrainingMode(false) { try upscaler.upscale(lr, seed: configuration.seed &+ UInt64(index)) }
            psnr += try PSNR(channel: .y, cropBorder: configuration.scale)(sr, reference: hr)
            try sr.write(toFile: configuration.output + "/samples/step\(step)_\(index).png")
        }
        return ["step": step, "event": "validation", "psnr_y": psnr / Double(validation.count)]
    }

    public func score(of entry: [String: Any]) -> Double? {
        switch configuration.stage {
        case .prior: (entry["validation_loss"] as? Double).map { -$0 }
        case .encoder, .cfw: entry["psnr_y"] as? Double
        }
    }

    // MARK: - Checkpoints and export

    public func checkpointMetadata() throws -> [String: String] {
        [LatentPriorDescription.metadataKey: String(decoding: try JSONEncoder().encode(LatentPriorDescription(configuration)), as: UTF8.self)]
    }

    public func restore(checkpointMetadata: [String: String]) {}

    public func export(weights: [String: Tensor], to path: String) throws {
        switch configuration.stage {
        case .prior: try LatentPriorDescription(configuration).write(weights, to: path)
        case .encoder, .cfw: try model(with: weights).write(to: path)
        }
    }
}
