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
/// CPU run needs.
///
/// SR3 step (reference `p_losses`): t ~ U{1…T} per batch; √γ ~ U(√ᾱ_{t−1}, √ᾱ_t) per image;
/// x̃ = √γ·HR + √(1−√γ²)·ε; loss = mean |ε − f([condition, x̃], √γ)|. Regression: the U-Net gets
/// [condition, condition] at noise level 1 and predicts HR, loss mean |HR − f|.
/// Around it: AdamW with linear warm-up (then a constant or cosine-decayed rate), global-norm
/// clipping, EMA weights, validation (PSNR-Y and consistency of EMA samples on fixed crops, images
/// saved, the best one's weights exported), atomic checkpoints (weights, EMA, optimizer moments,
/// step) with exact resume (batches and noise are functions of the seed and the step), a JSONL log,
/// and a stop with a clear message on a NaN/∞ loss.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let network: SR3UNet
    public private(set) var optimizer: Adam
    public private(set) var ema: ExponentialMovingAverage
    public private(set) var step = 0
    let schedule: NoiseSchedule
    let sampler: PatchSampler
    /// SR3+: the test-time augmentation level of best validation PSNR-Y so far (the exported
    /// model's default `--aug-level`).
    public private(set) var augmentationLevel: Double?
    /// SR3+: the levels validation tries (fractions of the schedule; SR3+ found 0.1–0.3 best).
    static let validationAugmentationLevels: [Double] = [0, 0.1, 0.2, 0.3]
    /// The best validation PSNR-Y so far; its EMA weights are in `best.safetensors` of the output
    /// folder (kept across resume).
    public private(set) var bestValidationPSNR: Double?
    let validation: [Image]
    private var lastCheckpoint: String?
    /// Test seam: replaces the loss of a step before it is checked (to exercise divergence handling).
    var lossHook: ((Int, Float) -> Float)?

    /// Status after each step, for progress bars: (step, loss, steps per second).
    public typealias Report = (_ step: Int, _ loss: Float, _ stepsPerSecond: Double) -> Void

    public init(configuration: TrainingConfiguration, resumeFrom checkpoint: String? = nil) throws {
        self.configuration = configuration
        var initialization = TorchGenerator(seed: configuration.seed)
        network = try SR3UNet(configuration: configuration.unet, using: &initialization)
        optimizer = Adam.adamW(learningRate: configuration.optimization.learningRate,
                               weightDecay: configuration.optimization.weightDecay)
        schedule = NoiseSchedule(configuration.betaSchedule)
        let d = configuration.data
        sampler = try PatchSampler(folder: d.train, cropSize: d.cropSize, scale: configuration.scale,
                                   flatThreshold: d.flatThreshold, degradation: d.degradation, conditioning: d.conditioning)
        sampler.degradationModel = d.degradationModel.map { RealESRGANDegradation(configuration: $0, scale: configuration.scale) }
        sampler.poolSize = d.poolSize ?? 0
        let names = (try? FileManager.default.contentsOfDirectory(atPath: d.validation))?.filter(ImageFormat.isImagePath).sorted() ?? []
        guard !names.isEmpty else { throw TrainingError.data("\(d.validation): no validation images") }
        validation = try names.prefix(d.validationCount).map { name in
            let image = try Image(contentsOfFile: d.validation + "/" + name)
            let side = min(d.cropSize * 2, image.width - image.width % d.cropSize, image.height - image.height % d.cropSize)
            return image.cropped(x: (image.width - side) / 2, y: (image.height - side) / 2, width: side, height: side)
        }
        if let source = configuration.initializeFrom, checkpoint == nil {
            try Self.initialize(network, from: source, configuration: configuration.unet)
        }
        ema = ExponentialMovingAverage(of: network, decay: configuration.optimization.emaDecay)
        if let checkpoint { try resume(from: checkpoint) }
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
        let (loss, gradients) = valueAndGradient(model: network) { model in
            Tensor.l1Loss(model(input, noiseLevel: level, augmentationLevel: augmentation, using: &generator), target)
        }
        return (loss.scalar, gradients)
    }

    /// Runs until `configuration.steps`, reporting each step; throws `TrainingError.diverged` on a
    /// non-finite loss (after which the last checkpoint is intact) or `DiffusionSampling.Cancelled`
    /// when `shouldStop` returns true (after writing a checkpoint).
    public func train(report: Report? = nil, shouldStop: () -> Bool = { false }) throws {
        let c = configuration
        try FileManager.default.createDirectory(atPath: c.output + "/samples", withIntermediateDirectories: true)
        let log = try JSONLines(path: c.output + "/log.jsonl")
        let prefetcher = BatchPrefetcher(sampler: sampler, batchSize: c.data.batchSize, seed: c.seed, startingAt: step)
        defer { prefetcher.stop() }
        let schedule = c.optimization.schedule(totalSteps: c.steps)
        var window: [Float] = []
        var windowStart = Date()
        while step < c.steps {
            let batch = prefetcher.batch(step)
            var (loss, grads) = withTrainingMode(true) { lossAndGradients(batch, step: step) }
            if let lossHook { loss = lossHook(step + 1, loss) }
            guard loss.isFinite else {
                try log.write(["step": step + 1, "event": "diverged", "loss": "\(loss)"])
                throw TrainingError.diverged(step: step + 1, lastCheckpoint: lastCheckpoint)
            }
            var gradients = grads
            let norm = c.optimization.gradientClip > 0 ? clipGradientNorm(&gradients, maxNorm: c.optimization.gradientClip) : 0
            optimizer.learningRate = schedule.rate(at: step + 1, base: c.optimization.learningRate)
            optimizer.update(network, gradients: gradients)
            ema.update(from: network, step: step)
            step += 1
            window.append(loss)
            let rate = Double(window.count) / max(Date().timeIntervalSince(windowStart), 1e-9)
            report?(step, loss, rate)
            if step % c.logEvery == 0 || step == c.steps {
                try log.write(["step": step, "loss": Double(window.reduce(0, +) / Float(window.count)),
                               "learning_rate": Double(optimizer.learningRate), "gradient_norm": Double(norm), "steps_per_second": rate])
                window.removeAll()
                windowStart = Date()
            }
            if step % c.validateEvery == 0 || step == c.steps { try log.write(try validateKeepingBest()) }
            if step % c.checkpointEvery == 0 || step == c.steps { try saveCheckpoint() }
            if shouldStop() {
                try saveCheckpoint()
                throw DiffusionSampling.Cancelled()
            }
        }
        try exportModel(to: c.output + "/model.safetensors")
    }

    // MARK: - Validation

    /// `validate()`, and when its PSNR-Y beats every earlier validation of the run, the EMA
    /// weights are exported to `best.safetensors` (the log entry gets `"best": true`). Diffusion
    /// models fine-tuned from a Regression model can peak early in PSNR, so the last step is not
    /// always the one to ship.
    func validateKeepingBest() throws -> [String: Any] {
        var entry = try validate()
        if let psnr = entry["psnr_y"] as? Double, psnr.isFinite, psnr > (bestValidationPSNR ?? -.infinity) {
            try exportModel(to: configuration.output + "/best.safetensors")
            bestValidationPSNR = psnr
            entry["best"] = true
        }
        return entry
    }

    /// PSNR-Y (crop border = scale) and consistency of EMA-weight outputs on the validation crops;
    /// the outputs are saved under `samples/`. SR3+ models are sampled at each of
    /// `validationAugmentationLevels`; the level of best PSNR-Y becomes `augmentationLevel` (the
    /// model's default t_eval) and the log line lists every level's PSNR-Y.
    public func validate() throws -> [String: Any] {
        let model = try SR3ModelFile(description: description, weights: ema.shadow)
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

    // MARK: - Checkpoints

    /// Writes `checkpoint.safetensors` (weights, EMA, Adam moments, step, best validation PSNR-Y)
    /// atomically.
    public func saveCheckpoint() throws {
        var tensors: [String: Tensor] = [:]
        for (path, parameter) in network.namedParameters() {
            tensors["model." + path] = parameter.value
            tensors["ema." + path] = ema.shadow[path]
            if let m = optimizer.firstMoments[path], let v = optimizer.secondMoments[path] {
                tensors["adam.m." + path] = m
                tensors["adam.v." + path] = v
            }
        }
        var metadata = ["diffsr.step": String(step), "diffsr.adam_step": String(optimizer.step),
                        SR3ModelDescription.metadataKey: try description.encodedJSON()]
        if let bestValidationPSNR { metadata["diffsr.best_psnr_y"] = String(bestValidationPSNR) }
        let path = configuration.output + "/checkpoint.safetensors"
        try SafeTensorsFile.write(tensors, metadata: metadata, to: path)
        lastCheckpoint = path
    }

    func resume(from path: String) throws {
        let file = try SafeTensorsFile(contentsOfFile: path)
        guard let stepText = file.metadata["diffsr.step"], let savedStep = Int(stepText),
              let adamText = file.metadata["diffsr.adam_step"], let adamStep = Int(adamText) else {
            throw TrainingError.data("\(path): not a training checkpoint (no diffsr.step metadata)")
        }
        var weights: [String: Tensor] = [:], shadow: [String: Tensor] = [:], m: [String: Tensor] = [:], v: [String: Tensor] = [:]
        for key in file.keys {
            let tensor = try file.tensor(key)
            if key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = tensor }
            else if key.hasPrefix("ema.") { shadow[String(key.dropFirst(4))] = tensor }
            else if key.hasPrefix("adam.m.") { m[String(key.dropFirst(7))] = tensor }
            else if key.hasPrefix("adam.v.") { v[String(key.dropFirst(7))] = tensor }
        }
        try network.update(parameters: weights)
        ema = ExponentialMovingAverage(shadow: shadow, decay: configuration.optimization.emaDecay)
        optimizer.restore(step: adamStep, firstMoments: m, secondMoments: v)
        step = savedStep
        if let json = file.metadata[SR3ModelDescription.metadataKey], let saved = try? SR3ModelDescription(json: json) {
            augmentationLevel = saved.augmentationLevel
        }
        bestValidationPSNR = file.metadata["diffsr.best_psnr_y"].flatMap(Double.init)
        lastCheckpoint = path
    }

    /// Writes the EMA weights as a model `diffsr upscale --model` can use.
    public func exportModel(to path: String) throws {
        try SR3ModelFile(description: description, weights: ema.shadow).write(to: path)
    }
}

/// An append-only JSON-lines log.
final class JSONLines {
    let handle: FileHandle
    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.data("\(path): cannot write the log") }
        handle.seekToEndOfFile()
        self.handle = handle
    }
    func write(_ object: [String: Any]) throws {
        handle.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) + Data("\n".utf8))
    }
}
