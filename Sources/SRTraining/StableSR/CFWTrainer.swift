import Foundation
import SRCheckpoint
import SRDegradation
import SRImage
import SRMetrics
import SRModels
import SRNN
import SRPipelines
import SRSupport
import SRTensor

/// What stage 2 trains: the CFW autoencoder (TAEF2 with fusion layers; only the fusion layers are
/// trainable) and the discriminator of its adversarial loss. Keys `cfw.*`, `discriminator.*`.
public final class CFWTrainee: Module, @unchecked Sendable {
    public let cfw: TinyAutoencoder
    public let discriminator: PatchDiscriminator

    init(cfw: TinyAutoencoder, discriminator: PatchDiscriminator) {
        self.cfw = cfw
        self.discriminator = discriminator
    }
}

/// StableSR stage 2 (`"stage": "cfw"`, §7.2), on the stage-1 model of `initialize_from`:
///
/// 1. **Pairs**, generated once as the reference's `generate_vqgan_data.py`: pair i is crop i of the
///    degradation model (as stage 1 makes them), its LR bicubic-upsampled to the crop, and the
///    stage-1 model's latent for it (from the noised LR latent, DDIM `cfw.sampler_steps`); files
///    `pair_<i>.safetensors` (`latent`, `condition`, `target`), written atomically, kept on resume.
/// 2. **Training** of the fusion layers only, at w = 1: decode(latent, CFW features of the LR) against
///    the target with L1 + `edge_weight`·L1 of the image gradients (this project's stand-in for the
///    reference's LPIPS, whose VGG weights are not available offline: it penalizes blurred edges,
///    and is not a perceptual metric) + from `discriminator_start` on, the adversarial loss of the
///    reference: −mean D(x̂) weighted by `adversarial_weight` · clamp(‖∇L_rec‖ / (‖∇L_adv‖ + 10⁻⁴),
///    0, 10⁴), gradients taken at the last fusion convolution (the reference takes the decoder's
///    conv_out); the discriminator learns by the hinge loss on the same batch, in the same
///    optimizer step (the reference alternates two optimizers).
///
/// Validation: PSNR-Y of the held-out pairs decoded at w = 1 and w = 0 (higher at w = 1 is the
/// score). The export is the stage-1 model with the trained fusion layers, `default_dec_w` recorded.
public final class CFWTrainer: TrainingTask {
    public let configuration: StableSRTrainingConfiguration
    let settings: StableSRTrainingConfiguration.CFW
    public let trainee: CFWTrainee
    public var network: Module { trainee }
    public private(set) var loop: TrainingLoop!
    /// The stage-1 model the pairs come from and the export builds on.
    let stage1: StableSRModel
    let sampler: PatchSampler
    /// The gradient the adversarial weight is balanced at.
    static let lastLayer = "cfw.decoder.fusion_layer_1.encode_enc_3.conv2.weight"

    public init(configuration: StableSRTrainingConfiguration, resumeFrom checkpoint: String? = nil,
                pairProgress: ((Int, Int) -> Void)? = nil) throws {
        precondition(configuration.stage == .cfw, "CFWTrainer trains stage cfw")
        self.configuration = configuration
        settings = configuration.cfw!
        let path = configuration.initializeFrom!
        stage1 = try StableSRModel(contentsOfFile: path)
        guard stage1.configuration.autoencoder == .tiny(configuration.autoencoder.configuration),
              stage1.configuration.latentScaleMatches(configuration.latentScale) else {
            throw TrainingError.configuration("initialize_from \(path): not a stage-1 model of this configuration's autoencoder and latent scale")
        }
        var generator = TorchGenerator(seed: configuration.seed)
        let cfw = try TinyAutoencoder(configuration: configuration.autoencoder.configuration, fusion: true, using: &generator)
        try cfw.update(parameters: stage1.cfw.parameterDictionary().mapValues(\.value))
        trainee = CFWTrainee(cfw: cfw, discriminator: PatchDiscriminator(using: &generator))
        trainee.freeze { !($0.hasPrefix("cfw.decoder.fusion_layer_") || $0.hasPrefix("discriminator.")) }
        let d = configuration.data
        sampler = try PatchSampler(data: d, scale: configuration.scale)
        try generatePairs(progress: pairProgress)
        loop = try TrainingLoop(settings: configuration.loopSettings, task: self, resumeFrom: checkpoint)
    }

    func pairPath(_ index: Int) -> String { settings.folder + "/pair_\(index).safetensors" }

    /// Generates the pairs not yet on disk (`progress(done, total)` after each).
    func generatePairs(progress: ((Int, Int) -> Void)?) throws {
        try FileManager.default.createDirectory(atPath: settings.folder, withIntermediateDirectories: true)
        var samplerSettings = StableSRSettings(recorded: stage1.defaults)
        samplerSettings.sampler = .ddim
        samplerSettings.steps = settings.samplerSteps
        let upscaler = StableSRUpscaler(model: stage1, settings: samplerSettings)
        let side = configuration.data.cropSize
        for index in 0..<settings.pairs {
            defer { progress?(index + 1, settings.pairs) }
            if FileManager.default.fileExists(atPath: pairPath(index)) { continue }
            let pair = sampler.pair(index, seed: configuration.seed)
            let condition = Tensor(shape: [1, side, side, 3], values: pair.condition)
            let (latent, _) = try upscaler.latentSample(condition, seed: configuration.seed &+ UInt64(index))
            try SafeTensorsFile.write(["latent": latent, "condition": condition,
                                       "target": Tensor(shape: [1, side, side, 3], values: pair.highResolution)], to: pairPath(index))
        }
    }

    /// Pairs `indices` stacked: latents (unscaled for the decoder), conditions and targets.
    func loadPairs(_ indices: [Int]) throws -> (latent: Tensor, condition: Tensor, target: Tensor) {
        var latents: [Tensor] = [], conditions: [Tensor] = [], targets: [Tensor] = []
        for index in indices {
            let file = try SafeTensorsFile(contentsOfFile: pairPath(index))
            latents.append(try file.tensor("latent"))
            conditions.append(try file.tensor("condition"))
            targets.append(try file.tensor("target"))
        }
        return (Tensor.concatenate(latents, alongAxis: 0) * Float(1 / configuration.latentScale),
                Tensor.concatenate(conditions, alongAxis: 0), Tensor.concatenate(targets, alongAxis: 0))
    }

    /// The training pairs of step `step`: each epoch a seeded permutation of the training pairs.
    func batchIndices(step: Int) -> [Int] {
        let training = Array(settings.validationPairs..<settings.pairs)
        let size = configuration.data.batchSize
        return (0..<size).map { k in
            let position = step * size + k
            let epoch = position / training.count
            var order = training
            var generator = TorchGenerator(seed: configuration.seed &+ 0xCF3 &+ UInt64(epoch))
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
            return order[position % training.count]
        }
    }

    /// L1 of the horizontal and vertical differences (the stand-in for LPIPS).
    static func edgeLoss(_ x: Tensor, _ y: Tensor) -> Tensor {
        func differences(_ t: Tensor) -> (Tensor, Tensor) {
            let (h, w) = (t.shape[1], t.shape[2])
            return (t.sliced(alongAxis: 1, from: 1, count: h - 1) - t.sliced(alongAxis: 1, from: 0, count: h - 1),
                    t.sliced(alongAxis: 2, from: 1, count: w - 1) - t.sliced(alongAxis: 2, from: 0, count: w - 1))
        }
        let (xv, xh) = differences(x), (yv, yh) = differences(y)
        return Tensor.l1Loss(xv, yv) + Tensor.l1Loss(xh, yh)
    }

    public func lossAndGradients(step: Int) throws -> (Float, [String: Tensor]) {
        let (latent, condition, target) = try loadPairs(batchIndices(step: step))
        let features = withoutGradients { trainee.cfw.encode(condition).features }
        let edge = Float(settings.edgeWeight)
        func decoded(_ model: CFWTrainee) -> Tensor { model.cfw.decode(latent, features: features, fusionWeight: 1) }
        let (reconstruction, reconstructionGradients) = valueAndGradient(model: trainee) { model in
            let x = decoded(model)
            return Tensor.l1Loss(x, target) + CFWTrainer.edgeLoss(x, target) * edge
        }
        var gradients = reconstructionGradients.filter { $0.key.hasPrefix("cfw.") }
        var loss = reconstruction.scalar
        guard step >= settings.discriminatorStart, settings.adversarialWeight > 0 else { return (loss, gradients) }
        let (adversarial, adversarialGradients) = valueAndGradient(model: trainee) { model in -model.discriminator(decoded(model)).mean() }
        let norm = { (g: [String: Tensor]) in (g[Self.lastLayer].map { ($0 * $0).sum().scalar } ?? 0).squareRoot() }
        let weight = Float(settings.adversarialWeight) * Swift.min(Swift.max(norm(reconstructionGradients) / (norm(adversarialGradients) + 1e-4), 0), 1e4)
        for (key, g) in adversarialGradients where key.hasPrefix("cfw.") { gradients[key] = (gradients[key] ?? Tensor.zeros(g.shape)) + g * weight }
        loss += weight * adversarial.scalar
        let fake = withoutGradients { decoded(trainee) }
        let (_, discriminatorGradients) = valueAndGradient(model: trainee) { model in
            (1 - model.discriminator(target)).relu().mean() + (1 + model.discriminator(fake)).relu().mean()
        }
        for (key, g) in discriminatorGradients where key.hasPrefix("discriminator.") { gradients[key] = g }
        return (loss, gradients)
    }

    /// The CFW autoencoder holding `weights`' `cfw.*`.
    func cfw(with weights: [String: Tensor]) throws -> TinyAutoencoder {
        var none = WeightsToBeLoaded()
        let model = try TinyAutoencoder(configuration: configuration.autoencoder.configuration, fusion: true, using: &none)
        var own: [String: Tensor] = [:]
        for (key, value) in weights where key.hasPrefix("cfw.") { own[String(key.dropFirst(4))] = value }
        try model.update(parameters: own)
        return model
    }

    public func validate(weights: [String: Tensor], step: Int) throws -> [String: Any] {
        let model = try cfw(with: weights)
        var psnr = [0.0, 0.0]
        for index in 0..<settings.validationPairs {
            let (latent, condition, target) = try loadPairs([index])
            let reference = Self.image(target)
            let features = withoutGradients { model.encode(condition).features }
            for (k, w) in [Float(1), 0].enumerated() {
                let decoded = Self.image(withoutGradients { model.decode(latent, features: features, fusionWeight: w) })
                psnr[k] += try PSNR(channel: .y, cropBorder: configuration.scale)(decoded, reference: reference)
                if index == 0 { try decoded.write(toFile: configuration.output + "/samples/step\(step)_w\(Int(w)).png") }
            }
        }
        let n = Double(settings.validationPairs)
        return ["step": step, "event": "validation", "psnr_y": psnr[0] / n, "psnr_y_w0": psnr[1] / n]
    }

    /// An image of a `[1, H, W, 3]` tensor in [−1, 1], clamped and quantized.
    static func image(_ t: Tensor) -> Image {
        Image(signedTensor: t).quantized()
    }

    public func score(of entry: [String: Any]) -> Double? { entry["psnr_y"] as? Double }
    public func checkpointMetadata() throws -> [String: String] { [:] }
    public func restore(checkpointMetadata: [String: String]) {}
    public func startBatches(at step: Int) {}
    public func stopBatches() {}

    /// The stage-1 model with the trained fusion layers and `default_dec_w` recorded.
    public func export(weights: [String: Tensor], to path: String) throws {
        var defaults = stage1.defaults
        defaults.decoderWeight = settings.defaultDecoderWeight
        let model = StableSRModel(configuration: stage1.configuration, cfwConfiguration: stage1.cfwConfiguration, unet: stage1.unet,
                                  encoder: stage1.encoder, firstStage: stage1.firstStage, cfw: try cfw(with: weights), context: stage1.context,
                                  defaults: defaults)
        try model.write(to: path)
    }
}

extension StableSRConfiguration {
    /// Whether the scale factor is `scale` (as stored in fp32/JSON).
    func latentScaleMatches(_ scale: Double) -> Bool { abs(scaleFactor - scale) <= 1e-9 * Swift.max(1, abs(scale)) }
}
