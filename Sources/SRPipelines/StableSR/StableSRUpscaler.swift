import Foundation
import SRDiffusion
import SRImage
import SRModels
import SRNN
import SRTensor

/// Upscales images with StableSR as the reference's tile script does
/// (`scripts/sr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py`, IceClear/StableSR 398ee93):
///
/// 1. the LR in [−1, 1], bicubic ×s with s = max(input_size / min(h, w), scale) (`F.interpolate`,
///    a = −0.75, no antialias), clamped; reflect-padded on both sides by ((n // 32) + 1)·32 − n when
///    either side is not a multiple of 32;
/// 2. larger than `pixelTile` on a side: pixel tiles (`ImageSpliterTh`: starts every
///    `pixelTileStride`, the last aligned to the border; width outer, height inner), each sampled on
///    its own with the generator reseeded, blended with StableSR's Gaussian window;
/// 3. per image or pixel tile: z = scale_factor × a posterior sample of the first stage's encoding
///    (the first draw, in NCHW order; a deterministic encoder's latent draws nothing); x_T = √ᾱ₉₉₉·z + √(1−ᾱ₉₉₉)·ε (the second draw, element by element in NHWC
///    order: `randn_like` of a channels-last tensor; `start: .noise` draws a third, x_T = ε in NCHW order,
///    as the 512 script); the respaced sampler (`space_timesteps`, Float32 schedule), the
///    network evaluated on latent tiles blended per step (`TiledDenoiser`, StableSR's window), each
///    tile's structure features from the time-aware encoder on the same tile of z at the original
///    timestep; the CFW decoder on z / scale_factor with the encoder features of the same input at
///    w (the first stage's encoding's, when the CFW encoder shares its tensors: one encoder pass);
///    the color fix against the input, before clamping;
/// 4. clamp((x + 1)/2); when s > scale, bicubic back to ×scale; crop the padding; 8 bits by
///    truncation (`astype(np.uint8)`), as the reference writes its PNGs.
///
/// Deviations: when s > scale the padding is cropped at the output's scale (the reference crops at
/// the pre-downscale size and so leaves the padding in); pixel tiles work when only one side
/// exceeds the tile (the reference's weight is always square and fails); the generator is seeded
/// per image (the reference seeds once per run, and per pixel tile).
public struct StableSRUpscaler {
    public let model: StableSRModel
    public var settings: StableSRSettings
    /// Latents shared with other upscalers of the same model file (`LatentMemo`: a w sweep samples
    /// once); `(memo, the model's file path)`.
    public var latentMemo: (memo: LatentMemo, model: String)?

    /// An upscaler with the model's recorded settings (else the reference's defaults).
    public init(model: StableSRModel, settings: StableSRSettings? = nil) {
        self.model = model
        self.settings = settings ?? StableSRSettings(recorded: model.defaults)
    }

    /// The training schedule (ldm's "linear": linspace of √β, squared).
    var trainingSchedule: NoiseSchedule {
        let c = model.configuration
        return NoiseSchedule(BetaScheduleConfiguration(schedule: .quad, stepCount: c.timesteps, linearStart: c.linearStart, linearEnd: c.linearEnd))
    }

    /// The sampler of the settings.
    func makeSampler() -> any DiffusionSampler {
        let schedule = trainingSchedule
        switch settings.sampler {
        case .ddpm: return DDPMSampler(schedule: schedule, steps: settings.steps, clipsDenoised: false, respacing: .spaceTimesteps, precision: .float32)
        case .ddim: return DDIMSampler(schedule: schedule, steps: settings.steps, eta: settings.eta, clipsDenoised: false,
                                       respacing: .spaceTimesteps, precision: .float32)
        case .dpmSolverPlusPlus: return DPMSolverSampler(schedule: schedule, steps: settings.steps, clipsDenoised: false,
                                                         respacing: .spaceTimesteps, precision: .float32)
        }
    }

    /// The size of the upsampled input and of the output for an LR of `width` × `height`.
    public func geometry(width: Int, height: Int) -> (upsampled: (width: Int, height: Int), factor: Double, output: (width: Int, height: Int)) {
        let factor = Swift.max(Double(settings.inputSize) / Double(Swift.min(width, height)), settings.scale)
        let up = (width: Int(Double(width) * factor), height: Int(Double(height) * factor))
        let output = factor > settings.scale ? (width: Int(Double(width) * settings.scale), height: Int(Double(height) * settings.scale)) : up
        return (up, factor, output)
    }

    /// Upscales one RGB image; `seed` seeds the reference-order random stream (reseeded per pixel tile).
    /// - Returns: the result, quantized to 8 bits as the reference writes it.
    public func upscale(_ image: Image, seed: UInt64, progress: DiffusionSampling.Progress? = nil) throws -> Image {
        try upscale(image, seed: seed, plan: nil, progress: progress)
    }

    /// `upscale` with a memory plan given (nil: planned here from `settings.memoryBudget`, if set).
    func upscale(_ image: Image, seed: UInt64, plan given: StableSRMemoryPlan?, progress: DiffusionSampling.Progress? = nil) throws -> Image {
        precondition(image.channels == 3, "StableSR upscales RGB images")
        try settings.validate()
        let (up, factor, output) = geometry(width: image.width, height: image.height)
        let signed = Image(width: image.width, height: image.height, channels: 3, pixels: image.pixels.map { $0 * 2 - 1 })
        let upsampled = signed.resized(width: up.width, height: up.height, method: .torchBicubic).clipped(lower: -1, upper: 1)
        var input = Tensor(shape: [1, up.height, up.width, 3], values: upsampled.pixels)
        let padded = paddedSize(width: image.width, height: image.height)
        if padded != up {
            let padHeight = padded.height - up.height, padWidth = padded.width - up.width
            let reflects = padHeight < up.height && padWidth < up.width
            input = input.padded(top: 0, bottom: padHeight, left: 0, right: padWidth, mode: reflects ? .reflect : .zero)
        }
        let (height, width) = (input.shape[1], input.shape[2])
        let plan = try given ?? memoryPlan(paddedHeight: height, paddedWidth: width)
        if let cache = plan?.weightCacheBytes, cache < DerivedValueCache.budget {
            DerivedValueCache.budget = cache
            if DerivedValueCache.bytesInUse > cache { releaseSamplingLayouts() }
        }
        let releasing = plan?.releasesSamplingLayouts ?? false
        let tiles = pixelTiles(height: height, width: width, tile: plan?.pixelTile ?? settings.pixelTile,
                               stride: plan?.pixelTileStride ?? settings.pixelTileStride)
        let stepsPerTile = settings.steps
        var result: Tensor
        if tiles.count == 1 {
            result = try sample(input, seed: seed, releasingLayouts: releasing) { done, _ in progress?(done, stepsPerTile) ?? true }
        } else {
            var sum = Tensor.zeros([1, height, width, 3]), total = Tensor.zeros([1, height, width, 1])
            let window = TiledDenoiser(size: tiles[0].height, overlap: 0, window: .stableSR)
                .weights(height: tiles[0].height, width: tiles[0].width)
            for (i, tile) in tiles.enumerated() {
                let out = try sample(input.cropped(to: tile), seed: seed, releasingLayouts: releasing) { done, _ in
                    progress?(i * stepsPerTile + done, tiles.count * stepsPerTile) ?? true
                }
                sum = sum.adding(out * window, atY: tile.y, x: tile.x)
                total = total.adding(window, atY: tile.y, x: tile.x)
            }
            result = sum / total
        }
        if let bad = result.scalars.firstIndex(where: { !$0.isFinite }) {
            guard !settings.rejectsNonFinite else {
                throw StableSRModel.LoadError("sampling diverged: the decoded image has non-finite values (first at sample \(bad)); check the model's weights and settings")
            }
            result = Tensor(shape: result.shape, values: result.scalars.map { $0.isFinite ? $0 : 0 })
        }
        var pixels = Image(signedTensor: result)
        if factor > settings.scale {
            let scaled = (width: Int(Double(width) * settings.scale / factor), height: Int(Double(height) * settings.scale / factor))
            pixels = pixels.resized(width: scaled.width, height: scaled.height, method: .torchBicubic).clipped(lower: 0, upper: 1)
        }
        let cropped = pixels.cropped(x: 0, y: 0, width: Swift.min(output.width, pixels.width), height: Swift.min(output.height, pixels.height))
        return Image(width: cropped.width, height: cropped.height, channels: 3,
                     pixels: cropped.pixels.map { Float(UInt8(Swift.min(Swift.max($0 * 255, 0), 255))) / 255 })
    }

    /// The padded size of the input for an LR of `width` × `height` (the bicubic ×s, then up to the
    /// next multiple of 32).
    public func paddedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let up = geometry(width: width, height: height).upsampled
        func padded(_ n: Int) -> Int { n % 32 == 0 ? n : (n / 32 + 1) * 32 }
        return up.height % 32 == 0 && up.width % 32 == 0 ? up : (padded(up.width), padded(up.height))
    }

    /// How an input of this padded size keeps within `settings.memoryBudget` (nil without a budget);
    /// measures the model's memory profile on first use.
    public func memoryPlan(paddedHeight height: Int, paddedWidth width: Int) throws -> StableSRMemoryPlan? {
        guard let budget = settings.memoryBudget else { return nil }
        return try StableSRMemoryPlan.plan(height: height, width: width, settings: settings, profile: model.memoryProfile,
                                           latentChannels: model.configuration.autoencoder.latentChannels, budget: budget,
                                           resident: TensorMemory.liveBytes,
                                           weightCache: Swift.min(DerivedValueCache.budget, model.memoryProfile.kernelLayoutBytes))
    }

    /// Hands the denoiser's cached kernel layouts back (`Module.releaseKernelLayouts`) and their
    /// pages to the system.
    func releaseSamplingLayouts() {
        model.unet.releaseKernelLayouts()
        model.encoder.releaseKernelLayouts()
        TensorMemory.returnFreedPages()
    }

    /// `ImageSpliterTh`'s tiles of a padded input at the settings' tile and stride.
    func pixelTiles(height: Int, width: Int) -> [DenoisingStep.Region] {
        pixelTiles(height: height, width: width, tile: settings.pixelTile, stride: settings.pixelTileStride)
    }

    /// `ImageSpliterTh`'s tiles of a padded input, width outer and height inner.
    func pixelTiles(height: Int, width: Int, tile: Int, stride tileStride: Int) -> [DenoisingStep.Region] {
        func starts(_ length: Int) -> [Int] {
            if length <= tile { return [0] }
            var seen = Set<Int>(), out: [Int] = []
            for start in stride(from: 0, to: length, by: tileStride) {
                let s = start + tile > length ? length - tile : start
                if seen.insert(s).inserted { out.append(s) }
            }
            return out
        }
        let tileHeight = Swift.min(tile, height), tileWidth = Swift.min(tile, width)
        return starts(width).flatMap { x in starts(height).map { y in DenoisingStep.Region(y: y, x: x, height: tileHeight, width: tileWidth) } }
    }

    /// The latent diffusion of one input (image or pixel tile) `[1, H, W, 3]` in [−1, 1], decoded,
    /// color-corrected, not clamped.
    ///
    /// The autoencoder's passes run without caching kernel layouts (`DerivedValueCache.withoutAdmission`):
    /// on a tile of hundreds of thousands of pixels a filter's transform costs nothing next to its
    /// convolution, and the cache is the denoiser's, which runs the same weights at every step.
    /// `releasingLayouts` hands the denoiser's layouts back before decoding (a memory plan's choice).
    func sample(_ input: Tensor, seed: UInt64, releasingLayouts: Bool = false, progress: DiffusionSampling.Progress?) throws -> Tensor {
        let (samples, features) = try memoizedLatentSample(input, seed: seed, releasingLayouts: releasingLayouts, progress: progress)
        return withTrainingMode(false) {
            withoutGradients {
                let decoded = autoencoderPhase(releasingLayouts) {
                    model.cfw.decode(samples / Float(model.configuration.scaleFactor), features: features,
                                     fusionWeight: Float(settings.decoderWeight))
                }
                guard settings.colorCorrection != .none else { return decoded }
                let (h, w) = (decoded.shape[1], decoded.shape[2])
                let corrected = settings.colorCorrection.corrected(Image(width: w, height: h, channels: 3, pixels: decoded.scalars),
                                                                   reference: Image(width: w, height: h, channels: 3, pixels: input.scalars))
                return Tensor(shape: decoded.shape, values: corrected.pixels)
            }
        }
    }

    /// An autoencoder pass: with a memory budget, without caching kernel layouts, and under a plan
    /// that hands the denoiser's back (`tight`) with fresh pages (`TensorMemory.withFreshPages`).
    /// Without a budget (benchmarks, training, tests) exactly as before the plan existed.
    func autoencoderPhase<R>(_ tight: Bool, _ body: () -> R) -> R {
        guard settings.memoryBudget != nil else { return body() }
        return DerivedValueCache.withoutAdmission { tight ? TensorMemory.withFreshPages(body) : body() }
    }

    /// `latentSample`, through `latentMemo` when one is attached.
    func memoizedLatentSample(_ input: Tensor, seed: UInt64, releasingLayouts: Bool = false,
                              progress: DiffusionSampling.Progress?) throws -> (latent: Tensor, features: [Tensor]) {
        guard let (memo, model) = latentMemo else {
            return try latentSample(input, seed: seed, releasingLayouts: releasingLayouts, progress: progress)
        }
        let key = LatentMemo.key(model: model, settings: settings, seed: seed, input: input)
        if let hit = memo.lookup(key, input: input) {
            _ = progress?(settings.steps, settings.steps)
            return hit
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try latentSample(input, seed: seed, releasingLayouts: releasingLayouts, progress: progress)
        memo.store(key, input: input, latent: result.latent, features: result.features,
                   seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return result
    }

    /// The diffusion half of `sample`: the sampled latent (scaled by the model's scale factor, as
    /// the reference's `generate_vqgan_data.py` saves it) and the CFW encoder's features of `input`.
    /// `releasingLayouts` (a memory plan's choice) hands the denoiser's kernel layouts back as soon
    /// as the sampling ends, before the CFW encoder runs.
    public func latentSample(_ input: Tensor, seed: UInt64, releasingLayouts: Bool = false,
                             progress: DiffusionSampling.Progress? = nil) throws -> (latent: Tensor, features: [Tensor]) {
        var generator = TorchGenerator(seed: seed)
        let c = model.configuration
        let scaleFactor = Float(c.scaleFactor)
        return try withTrainingMode(false) {
            try withoutGradients {
                let posterior = autoencoderPhase(releasingLayouts) { model.firstStage.encode(input) }
                let latent = (posterior.isStochastic
                    ? posterior.sample(noise: Tensor.randomNormal(posterior.mean.shape, order: .nchw, using: &generator)) : posterior.mean) * scaleFactor
                // `torch.randn_like(init_latent)`: the reference's input is a transposed view of an
                // HWC array (channels-last strides, kept through interpolation, padding and the
                // convolutions); randn_like fills such a tensor element by element in memory order.
                let noise = Tensor.randomNormal(latent.shape, order: .channelsLast, using: &generator)
                let last = trainingSchedule.alphasCumprod[c.timesteps - 1]
                var start = latent * Float(last.squareRoot()) + noise * Float((1 - last).squareRoot())
                if settings.start == .noise { start = Tensor.randomNormal(latent.shape, order: .nchw, using: &generator) }
                let tiler = TiledDenoiser(size: settings.latentTile, overlap: settings.latentTileOverlap, window: .stableSR)
                let (unet, encoder, context) = (model.unet, model.encoder, model.context)
                let samples = try DiffusionSampling.sample(
                    from: start, sampler: makeSampler(), prediction: c.parameterization == .velocity ? .velocity : .epsilon,
                    draw: { Tensor.randomNormal($0, order: .nchw, using: &generator) },
                    denoiser: { x, step in
                        tiler(x, step: step) { tile, tileStep in
                            let timesteps = Tensor(shape: [tile.shape[0]], repeating: Float(tileStep.timestep))
                            let features = encoder(latent.cropped(to: tileStep.region), timesteps: timesteps)
                            return unet(tile, timesteps: timesteps, context: context, structure: features)
                        }
                    }, progress: progress)
                if releasingLayouts { releaseSamplingLayouts() }
                let features = model.cfwEncoderIsFirstStages ? posterior.features
                    : autoencoderPhase(releasingLayouts) { model.cfw.encode(input).features }
                return (samples, features)
            }
        }
    }
}
