import Foundation
import SRCheckpoint
import SRDegradation
import SRDiffusion
import SRPipelines
import SRImage
import SRMetrics
import SRModels
import SRNN
import SRSupport
import SRTensor

/// Trains an SR3 model (or its Regression twin) as the reference does, with the engineering a long
/// CPU run needs (`TrainingLoop`).
///
/// SR3 step (reference `p_losses`): t ~ U{1…T} per batch; √γ ~ U(√ᾱ_{t−1}, √ᾱ_t) per image;
/// x̃ = √γ·HR + √(1−√γ²)·ε; loss = mean |ε − f([condition, x̃], √γ)|. Regression: the U-Net gets
/// [condition, condition] at noise level 1 and predicts HR, loss mean |HR − f|.
/// Validation: PSNR-Y and consistency of EMA samples on fixed crops, images saved, the best one's
/// weights exported. Batches and noise are functions of the seed and the step.
public final class Trainer: TrainingTask {
    public let configuration: TrainingConfiguration
    public let unet: SR3UNet
    public var network: Module { unet }
    /// The loop around this task (optimizer, EMA, checkpoints, log).
    public private(set) var loop: TrainingLoop!
    let schedule: NoiseSchedule
    let sampler: PatchSampler
    private var prefetcher: BatchPrefetcher?
    /// SR3+: the test-time augmentation level of best validation PSNR-Y so far (the exported
    /// model's default `--aug-level`).
    public private(set) var augmentationLevel: Double?
    /// SR3+: the levels validation tries (fractions of the schedule; SR3+ found 0.1–0.3 best).
    static let validationAugmentationLevels: [Double] = [0, 0.1, 0.2, 0.3]
    /// The best validation PSNR-Y so far; its EMA weights are in `best.safetensors` of the output
    /// folder (kept across resume).
    public var bestValidationPSNR: Double? { loop.bestScore }
    let validation: [Image]
    /// Test seam: replaces the loss of a step before it is checked (to exercise divergence handling).
    var lossHook: ((Int, Float) -> Float)? {
        get { loop.lossHook }
        set { loop.lossHook = newValue }
    }

    public init(configuration: TrainingConfiguration, resumeFrom checkpoint: String? = nil) throws {
        self.configuration = configuration
        var initialization = TorchGenerator(seed: configuration.seed)
        unet = try SR3UNet(configuration: configuration.unet, using: &initialization)
        schedule = NoiseSchedule(configuration.betaSchedule)
        let d = configuration.data
        sampler = try PatchSampler(data: d, scale: configuration.scale)
        validation = try Self.validationCrops(folder: d.validation, count: d.validationCount, cropSize: d.cropSize)
        if let source = configuration.initializeFrom, checkpoint == nil {
            try Self.initialize(unet, from: source, configuration: configuration.unet)
        }
        loop = try TrainingLoop(settings: configuration.loopSettings, task: self, resumeFrom: checkpoint)
    }

    /// Center crops (twice the training crop, at most) of the first `count` images of a folder.
    static func validationCrops(folder: String, count: Int, cropSize: Int) throws -> [Image] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter(ImageFormat.isImagePath).sorted() ?? []
        guard !names.isEmpty else { throw TrainingError.data("\(folder): no validation images") }
        return try names.prefix(count).map { name in
            let image = try Image(contentsOfFile: folder + "/" + name)
            let side = min(cropSize * 2, image.width - image.width % cropSize, image.height - image.height % cropSize)
            return image.cropped(x: (image.width - side) / 2, y: (image.height - side) / 2, width: side, height: side)
        }
    }


    public func startBatches(at step: Int) {
        prefetcher = BatchPrefetcher(sampler: sampler, batchSize: configuration.data.batchSize, seed: configuration.seed, startingAt: step)
    }

    public func stopBatches() {
        prefetcher?.stop()
        prefetcher = nil
    }

    public func lossAndGradients(step: Int) -> (Float, [String: Tensor]) {
        let batch = prefetcher?.batch(step) ?? sampler.batch(step, size: configuration.data.batchSize, seed: configuration.seed)
        return lossAndGradients(batch, step: step)
    }

    /// Copies a trained model's weights into `network` (`initialize_from`). The U-Nets must be
    /// equal, except that an SR3+ network may start from an SR3 or Regression model without
    /// condition augmentation: its `aug_level_mlp` keeps its initialization but the last layer is
    /// zeroed, so the augmentation embedding adds nothing at first and the network computes
    /// exactly the source's function until training moves it (as ControlNet's zero convolutions).
    static func initialize(_ network: SR3UNet, from source: String, configuration: SR3UNetConfiguration) throws {
        let start = try SR3ModelFile(contentsOfFile: source)
        var sourceUNet = start.description.unet
        let addsAugmentation = configuration.conditionAugmentation && !sourceUNet.conditionAugmentation
        if addsAugmentation { sourceUNet.conditionAugmentation = true }
        guard sourceUNet == configuration else {
            throw TrainingError.configuration("initialize_from \(source): its U-Net differs from the configuration's")
        }
        var values = Dictionary(uniqueKeysWithValues: start.network.namedParameters().map { ($0.path, $0.parameter.value) })
        if addsAugmentation {
            for parameter in network.namedParameters() where parameter.path.hasPrefix("aug_level_mlp.3.") {
                values[parameter.path] = Tensor.zeros(parameter.parameter.shape)
            }
        }
        try network.update(parameters: values, strict: !addsAugmentation)
    }

    var description: SR3ModelDescription {
        var description = SR3ModelDescription(kind: configuration.mode, unet: configuration.unet, betaSchedule: configuration.betaSchedule,
                                              scale: configuration.scale, conditioning: configuration.data.conditioning)
        description.prediction = configuration.mode == .sr3 ? configuration.prediction : nil
        description.augmentationLevel = configuration.unet.conditionAugmentation ? augmentationLevel : nil
        return description
    }

    // MARK: - One step

    /// The loss of one batch and its gradients.
    func lossAndGradients(_ batch: PatchSampler.Batch, step: Int) -> (Float, [String: Tensor]) {
        var generator = TorchGenerator(seed: configuration.seed &+ 0x5EED &+ UInt64(step) &* 1_000_003)
        let n = batch.highResolution.shape[0]
        var condition = batch.condition
        var augmentation: Tensor? = nil
        if configuration.unet.conditionAugmentation {
            // SR3+: τ ~ U(0, τ_max) per image; the condition noised to √ᾱ(τ).
            let maximum = configuration.data.augmentationMaximum ?? 0.5
            let levels = (0..<n).map { _ in ConditionAugmentation.level(fraction: maximum * generator.uniformDouble(), schedule: schedule) }
            let noise = Tensor.randomNormal(condition.shape, order: .nchw, using: &generator)
            let a = Tensor(shape: [n, 1, 1, 1], values: levels)
            condition = condition.noised(level: a, noise: noise)
            augmentation = Tensor(shape: [n], values: levels)
        }
        let input: Tensor, level: Tensor, target: Tensor
        switch configuration.mode {
        case .sr3:
            let t = 1 + Int(generator.next() % UInt64(schedule.stepCount))
            let bounds = schedule.sqrtAlphasCumprodPrevious
            let levels = (0..<n).map { _ in Float(bounds[t - 1] + (bounds[t] - bounds[t - 1]) * generator.uniformDouble()) }
            let noise = Tensor.randomNormal(batch.highResolution.shape, order: .nchw, using: &generator)
            let c = Tensor(shape: [n, 1, 1, 1], values: levels)
            let noisy = batch.highResolution.noised(level: c, noise: noise)
            input = Tensor.concatenate([condition, noisy], alongAxis: 3)
            level = Tensor(shape: [n], values: levels)
            target = configuration.prediction == .x0 ? batch.highResolution : noise
        case .regression:
            input = Tensor.concatenate([condition, condition], alongAxis: 3)
            level = Tensor.ones([n])
            target = batch.highResolution
        }
        let (loss, gradients) = valueAndGradient(model: unet) { model in
            Tensor.l1Loss(model(input, noiseLevel: level, augmentationLevel: augmentation, using: &generator), target)
        }
        return (loss.scalar, gradients)
    }

    // MARK: - Validation

    /// PSNR-Y (crop border = scale) and consistency of EMA-weight outputs on the validation crops;
    /// the outputs are saved under `samples/`. SR3+ models are sampled at each of
    /// `validationAugmentationLevels`; the level of best PSNR-Y becomes `augmentationLevel` (the
    /// model's default t_eval) and the log line lists every level's PSNR-Y.
    public func validate(weights: [String: Tensor], step: Int) throws -> [String: Any] {
        let model = try SR3ModelFile(description: description, weights: weights)
        var upscaler = SR3Upscaler(model: model, sampler: .dpmSolverPlusPlus, steps: min(configuration.validationSamplerSteps, schedule.stepCount))
        let inputs = try validation.enumerated().map { index, hr -> Image in
            guard let model = sampler.degradationModel else {
                return hr.resized(scale: 1 / Double(configuration.scale), method: configuration.data.degradation).quantized()
            }
            // Blind SR: validate on a fixed degradation of each crop.
            var g = TorchGenerator(seed: configuration.seed &+ 0xDE6 &+ UInt64(index))
            return try RealESRGANDegradation.apply(hr, with: model.sampleParameters(using: &g)).lowResolution
        }
        // SR3+ models are validated at each test-time augmentation level; the best one is kept.
        let levels = configuration.unet.conditionAugmentation ? Self.validationAugmentationLevels : [0]
        var scores: [(level: Double, psnr: Double, consistency: Double, outputs: [Image])] = []
        for level in levels {
            upscaler.augmentationLevel = level
            var psnr = 0.0, consistency = 0.0, outputs: [Image] = []
            for (index, hr) in validation.enumerated() {
                var generator = TorchGenerator(seed: configuration.seed &+ UInt64(index))
                let sr = try upscaler.upscale(inputs[index], generator: &generator)
                psnr += try PSNR(channel: .y, cropBorder: configuration.scale)(sr.quantized(), reference: hr)
                consistency += try Consistency(scale: configuration.scale)(sr.quantized(), lowResolution: inputs[index])
                outputs.append(sr)
            }
            let n = Double(validation.count)
            scores.append((level, psnr / n, consistency / n, outputs))
        }
        let best = scores.max { $0.psnr < $1.psnr }!
        for (index, sr) in best.outputs.enumerated() { try sr.write(toFile: configuration.output + "/samples/step\(step)_\(index).png") }
        var entry: [String: Any] = ["step": step, "event": "validation", "psnr_y": best.psnr, "consistency": best.consistency]
        if configuration.unet.conditionAugmentation {
            augmentationLevel = best.level
            entry["augmentation_level"] = best.level
            entry["psnr_y_by_augmentation_level"] = Dictionary(uniqueKeysWithValues: scores.map { (String($0.level), $0.psnr) })
        }
        return entry
    }

    public func score(of entry: [String: Any]) -> Double? { entry["psnr_y"] as? Double }

    // MARK: - Checkpoints and export

    public func checkpointMetadata() throws -> [String: String] { [SR3ModelDescription.metadataKey: try description.encodedJSON()] }

    public func restore(checkpointMetadata metadata: [String: String]) {
        if let json = metadata[SR3ModelDescription.metadataKey], let saved = try? SR3ModelDescription(json: json) {
            augmentationLevel = saved.augmentationLevel
        }
    }

    public func export(weights: [String: Tensor], to path: String) throws {
        try SR3ModelFile(description: description, weights: weights).write(to: path)
    }
}
