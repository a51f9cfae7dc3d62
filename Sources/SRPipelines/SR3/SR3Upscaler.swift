import Foundation
import SRDiffusion
import SRImage
import SRModels
import SRTensor

/// Upscales images with an SR3 model: condition = LR upsampled by the model's `conditioning`
/// method to scale × size, mapped to [−1, 1]; iterative refinement from noise with the chosen
/// sampler (optionally on Gaussian-blended tiles, bounding memory for any image size); the result
/// mapped back to [0, 1], clipped, and optionally color-corrected against the condition. Inputs
/// whose upscaled size is not a multiple of the U-Net's `sizeMultiple` are padded by edge
/// reflection and cropped back.
public struct SR3Upscaler {
    public typealias SamplerKind = SRDiffusion.SamplerKind

    /// Element order of the random draws: `.nchw` reproduces the reference's stream for a seed.
    public var noiseOrder: Tensor.RandomFillOrder = .nchw
    public let model: SR3ModelFile
    public var sampler: SamplerKind
    public var steps: Int
    public var eta: Double
    /// Tile size in output pixels (nil: the whole image at once) and overlap (see `TiledDenoiser`).
    public var tile: TiledDenoiser?
    /// Color correction against the condition (StableSR's AdaIN or wavelet fix); starts at the
    /// model's recorded default.
    public var colorCorrection: ColorCorrection = .none
    /// SR3+ test-time augmentation level t_eval ∈ [0, 1] (a fraction of the training schedule):
    /// the condition is noised to that level and the model told so. Higher trades fidelity for
    /// realism. Used only by models trained with condition augmentation; starts at the model's
    /// recorded default (`SR3ModelDescription.augmentationLevel`, else 0).
    public var augmentationLevel: Double = 0
    /// Where sampling starts (nil: `defaultStart`, from the model's schedule).
    public var start: DiffusionSampling.Start? = nil

    /// Pure noise (the reference) when the schedule's last step keeps √ᾱ_T < 0.02 of signal (the
    /// reference's 2000-step schedules keep 0.0067), else the noised condition: a model trained on
    /// such a schedule (the 1000-step linear 1e-6…1e-2 keeps 0.082) never saw pure noise, and a
    /// pure-noise start shifts its results toward gray (measured on this project's first SR3 model:
    /// a near-white crop came out at a mean level of 140 instead of 241).
    public var defaultStart: DiffusionSampling.Start {
        let schedule = NoiseSchedule(model.description.betaSchedule)
        return schedule.alphasCumprod.last!.squareRoot() < 0.02 ? .noise : .noisedCondition
    }

    /// An upscaler for `model`. The sampler, step count, color correction and augmentation level
    /// start at the model's recorded defaults (`SR3ModelDescription.effectiveSampling`,
    /// `augmentationLevel`); `sampler` and `steps`, when given, replace them.
    public init(model: SR3ModelFile, sampler: SamplerKind? = nil, steps: Int? = nil, eta: Double = 0) {
        let defaults = model.description.effectiveSampling
        self.model = model
        self.sampler = sampler ?? defaults.sampler!
        self.steps = steps ?? defaults.steps!
        self.eta = eta
        colorCorrection = defaults.colorCorrection!
        augmentationLevel = model.description.augmentationLevel ?? 0
    }

    /// The sampler value for this configuration.
    public func makeSampler() -> any DiffusionSampler {
        let schedule = NoiseSchedule(model.description.betaSchedule)
        switch sampler {
        case .ddpm: return DDPMSampler(schedule: schedule, steps: steps)
        case .ddim: return DDIMSampler(schedule: schedule, steps: steps, eta: eta)
        case .dpmSolverPlusPlus: return DPMSolverSampler(schedule: schedule, steps: steps)
        }
    }

    /// The condition tensor `[1, H·s, W·s, 3]` in [−1, 1] for an RGB image.
    public func condition(for image: Image) -> Tensor {
        let s = model.description.scale
        let up = image.resized(width: image.width * s, height: image.height * s, method: model.description.conditioning)
        return Tensor(shape: [1, up.height, up.width, 3], values: up.pixels.map { $0 * 2 - 1 })
    }

    /// Upscales one RGB image.
    public func upscale(_ image: Image, generator: inout TorchGenerator, progress: DiffusionSampling.Progress? = nil) throws -> Image {
        var generators = [generator]
        defer { generator = generators[0] }
        return try upscale([image], generators: &generators, progress: progress)[0]
    }

    /// Upscales RGB images of one size together (one network call per step for the whole batch).
    /// Image i draws its noise from `generators[i]` only, so each result equals what
    /// `upscale(_:generator:)` gives for that image and generator, up to float rounding.
    /// - Precondition: the images share one size and `generators.count == images.count`.
    public func upscale(_ images: [Image], generators: inout [TorchGenerator], progress: DiffusionSampling.Progress? = nil) throws -> [Image] {
        precondition(!images.isEmpty && generators.count == images.count, "one generator per image")
        precondition(images.allSatisfy { $0.channels == 3 }, "upscale expects RGB images")
        precondition(images.allSatisfy { $0.width == images[0].width && $0.height == images[0].height }, "a batch shares one size")
        let clean = images.map(condition(for:))
        var condition = Tensor.concatenate(clean, alongAxis: 0)
        let (count, height, width) = (images.count, condition.shape[1], condition.shape[2])
        let multiple = model.network.sizeMultiple
        let padBottom = (multiple - height % multiple) % multiple, padRight = (multiple - width % multiple) % multiple
        if padBottom > 0 || padRight > 0 {
            condition = condition.padded(top: 0, bottom: padBottom, left: 0, right: padRight,
                                         mode: padBottom < height && padRight < width ? .reflect : .zero)
        }
        let network = model.network
        var dropout = SystemRandomNumberGenerator()
        var augmentation: Tensor? = nil
        if model.description.unet.conditionAugmentation {
            let level = ConditionAugmentation.level(fraction: augmentationLevel, schedule: NoiseSchedule(model.description.betaSchedule))
            condition = Tensor.concatenate((0..<count).map { i in
                ConditionAugmentation.apply(condition.sliced(alongAxis: 0, from: i, count: 1), level: level, generator: &generators[i], order: noiseOrder)
            }, alongAxis: 0)
            augmentation = Tensor(shape: [count], repeating: level)
        }
        let output: Tensor
        switch model.description.kind {
        case .regression:
            output = withTrainingMode(false) {
                withoutGradients {
                    network(Tensor.concatenate([condition, condition], alongAxis: 3), noiseLevel: Tensor.ones([count]),
                            augmentationLevel: augmentation, using: &dropout)
                }
            }
            _ = progress?(1, 1)
        case .sr3:
            output = try withTrainingMode(false) {
                try DiffusionSampling.run(condition: condition, sampler: makeSampler(), prediction: model.description.prediction == .x0 ? .sample : .epsilon,
                                          generators: &generators, order: noiseOrder, start: start ?? defaultStart, tile: tile,
                                          model: { input, level in network(input, noiseLevel: level, augmentationLevel: augmentation, using: &dropout) },
                                          progress: progress)
            }
        }
        let cropped = output.sliced(alongAxis: 1, from: 0, count: height).sliced(alongAxis: 2, from: 0, count: width)
        return (0..<count).map { i in
            let result = Image(width: width, height: height, channels: 3,
                               pixels: cropped.sliced(alongAxis: 0, from: i, count: 1).scalars.map { Swift.min(Swift.max(($0 + 1) / 2, 0), 1) })
            if colorCorrection == .none { return result }
            let reference = Image(width: width, height: height, channels: 3, pixels: clean[i].scalars.map { ($0 + 1) / 2 })
            return colorCorrection.apply(result, reference: reference)
        }
    }
}
