import Foundation
import SRModels
import SRNN
import SRTensor

/// What one StableSR upscale holds beyond what is resident before it (the model's weights, the
/// input), per pixel, measured by running the model's own networks on small inputs and counting
/// the bytes of the tensors they allocate (`TensorMemory.measure`: deterministic, unlike the
/// resident set). Activation memory grows
/// with the area of what a network sees (the autoencoder's self-attention is computed in blocks of
/// query rows, so nothing grows faster), so a probe's per-pixel peak, which also carries the
/// probe's few fixed-size tensors, bounds the peak at any larger size from above.
public struct StableSRMemoryProfile: Sendable, Equatable {
    /// Peak bytes of the autoencoder phase of a pixel tile (the first stage's encoding with the CFW
    /// features, then the CFW decoder with them), per pixel of the tile.
    public var autoencoderBytesPerPixel: Double
    /// Bytes of the CFW features of a pixel tile (alive while the tile is sampled), per pixel.
    public var featureBytesPerPixel: Double
    /// Peak bytes of one denoising evaluation (the time-aware encoder and the U-Net) on a latent
    /// tile, per latent pixel.
    public var samplingBytesPerLatentPixel: Double
    /// The most the denoiser's kernel layouts can take in the weight cache: 4× its weights (a 3×3
    /// filter's Winograd transform is 36 values for 9; other layouts are reorders of the same size).
    public var kernelLayoutBytes: Int

    /// The side of the probes: pixels for the autoencoder, latent pixels for the denoiser.
    public static let probePixels = 128, probeLatent = 16

    /// Measures the profile of `model` (about 1 s for the released model's width on 2 cores).
    public static func measure(_ model: StableSRModel) -> StableSRMemoryProfile {
        withTrainingMode(false) {
            withoutGradients {
                DerivedValueCache.withoutAdmission {
                    let side = probePixels, area = Double(side * side)
                    let image = Tensor.zeros([1, side, side, 3])
                    var features = 0
                    let (_, autoencoder) = TensorMemory.measure {
                        let posterior = model.firstStage.encode(image)
                        let cfwFeatures = model.cfwEncoderIsFirstStages ? posterior.features : model.cfw.encode(image).features
                        features = cfwFeatures.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
                        return model.cfw.decode(posterior.mean, features: cfwFeatures, fusionWeight: 0.5).count
                    }
                    let c = model.configuration, latent = probeLatent
                    let z = Tensor.zeros([1, latent, latent, c.unet.inChannels])
                    let t = Tensor(shape: [1], values: [Float(c.timesteps - 1)])
                    let (_, sampling) = TensorMemory.measure {
                        model.unet(z, timesteps: t, context: model.context, structure: model.encoder(z, timesteps: t)).count
                    }
                    let denoiserWeights = (model.unet.parameterCount + model.encoder.parameterCount) * MemoryLayout<Float>.stride
                    return StableSRMemoryProfile(autoencoderBytesPerPixel: Double(autoencoder) / area,
                                                 featureBytesPerPixel: Double(features) / area,
                                                 samplingBytesPerLatentPixel: Double(sampling) / Double(latent * latent),
                                                 kernelLayoutBytes: 4 * denoiserWeights)
                }
            }
        }
    }
}

/// How an upscale keeps within a memory budget: the pixel tile (the reference's when it fits,
/// smaller ones until the estimate fits), whether the U-Net's cached kernel layouts are handed
/// back before each autoencoder phase (they are recomputed at the next tile's first step), and the
/// weight cache's share.
///
/// The estimate of a phase's peak: the tensor bytes resident when planning (weights, input), the
/// weight cache's budget where it is held, the phase's activations from the profile, the output
/// canvas of a tiled image, and `overhead` for what tensors do not count (the program, kernels'
/// scratch, heap pages freed but kept by the allocator).
public struct StableSRMemoryPlan: Sendable, Equatable {
    public var pixelTile: Int
    public var pixelTileStride: Int
    /// Hand the denoiser's kernel layouts back before each autoencoder phase.
    public var releasesSamplingLayouts: Bool
    /// The weight cache's budget to set (nil: leave it).
    public var weightCacheBytes: Int?
    /// The larger of the two phases' estimated peaks, in bytes.
    public var estimatedPeakBytes: Int

    /// Not counted by tensors: the program, kernels' scratch, heap pages the allocator keeps.
    /// Measured as the resident set above the tensor peak and the weight cache: 0.2–0.3 GiB for
    /// one tile, up to 0.9 GiB over the nine tiles of a 2048² output (`Benchmarks/README.md`,
    /// StableSR section); rounded up.
    public static let overhead = 1 << 30
    /// The smallest pixel tile a plan chooses: one latent tile (smaller pixel tiles would leave
    /// the latent tiling nothing to tile and only add overlap).
    public static func smallestPixelTile(_ settings: StableSRSettings) -> Int { Swift.min(settings.pixelTile, 8 * settings.latentTile) }

    /// Plans an upscale of a padded input of `height` × `width` pixels.
    /// - Parameters:
    ///   - budget: bytes the process may hold at its peak.
    ///   - resident: tensor bytes held before the upscale (`TensorMemory.liveBytes`).
    ///   - weightCache: what the weight cache may hold for the denoiser (`DerivedValueCache.budget`,
    ///     at most the profile's `kernelLayoutBytes`).
    /// - Throws: when even the smallest tile and no weight cache exceed the budget, naming the least
    ///   budget that would do.
    public static func plan(height: Int, width: Int, settings: StableSRSettings, profile: StableSRMemoryProfile, latentChannels: Int,
                            budget: Int, resident: Int, weightCache: Int) throws -> StableSRMemoryPlan {
        let factor = 8.0
        let latentArea = Double(settings.latentTile * settings.latentTile)
        let sampling = profile.samplingBytesPerLatentPixel * latentArea
        let canvas = Double(height * width * 4 * MemoryLayout<Float>.stride)   // sum (3 channels) and weights (1)
        let ratio = Double(settings.pixelTileStride) / Double(settings.pixelTile)
        func phases(tile: Int, cache: Double, releasing: Bool) -> (sampling: Double, autoencoder: Double) {
            let (th, tw) = (Swift.min(tile, height), Swift.min(tile, width))
            let area = Double(th * tw), tiled = th < height || tw < width
            let base = Double(resident + overhead) + (tiled ? canvas : 0)
            // The sampler's latents of the whole tile (x, the LR latent, noise, predictions, the tiled
            // denoiser's sums): 16 latent-sized tensors at most.
            let latents = area / (factor * factor) * Double(latentChannels * MemoryLayout<Float>.stride * 16)
            let samplingPeak = base + cache + sampling + profile.featureBytesPerPixel * area + latents
            let autoencoderPeak = base + (releasing ? 0 : cache) + profile.autoencoderBytesPerPixel * area
            return (samplingPeak, autoencoderPeak)
        }
        // The set tile, then multiples of 64 below it.
        var tiles = [settings.pixelTile]
        var next = (settings.pixelTile - 1) / 64 * 64
        while next >= smallestPixelTile(settings) { tiles.append(next); next -= 64 }
        let cache = Double(weightCache), limit = Double(budget)
        // Larger tiles first (fewer, so less sampled overlap), each kept whole before layouts are handed back.
        for tile in tiles {
            for releasing in [false, true] {
                let (s, a) = phases(tile: tile, cache: cache, releasing: releasing)
                if Swift.max(s, a) <= limit {
                    return StableSRMemoryPlan(pixelTile: tile, pixelTileStride: stride(tile, ratio: ratio, settings: settings),
                                              releasesSamplingLayouts: releasing, weightCacheBytes: nil,
                                              estimatedPeakBytes: Int(Swift.max(s, a)))
                }
            }
        }
        // A smaller weight cache: what is left in the sampling phase at the smallest tile.
        let smallest = tiles.last!
        let (s0, a0) = phases(tile: smallest, cache: 0, releasing: true)
        if Swift.max(s0, a0) <= limit {
            let room = Int(limit - s0)
            return StableSRMemoryPlan(pixelTile: smallest, pixelTileStride: stride(smallest, ratio: ratio, settings: settings),
                                      releasesSamplingLayouts: true, weightCacheBytes: room,
                                      estimatedPeakBytes: Int(Swift.max(s0 + Double(room), a0)))
        }
        throw StableSRModel.LoadError(String(format: "the memory budget %@ is too small for this model: its weights and the input take %@, "
            + "and at the smallest pixel tile (%d) without a weight cache the upscale needs about %@",
            formatBytes(budget), formatBytes(resident), smallest, formatBytes(Int(Swift.max(s0, a0)))))
    }

    /// The stride of a tile, in the reference's proportion (1000 / 1280), a multiple of 8.
    static func stride(_ tile: Int, ratio: Double, settings: StableSRSettings) -> Int {
        tile == settings.pixelTile ? settings.pixelTileStride : Swift.max(8, Int(Double(tile) * ratio) / 8 * 8)
    }

    /// One line for `--verbose`.
    public var summary: String {
        "pixel tile \(pixelTile) stride \(pixelTileStride)"
            + (releasesSamplingLayouts ? ", kernel layouts handed back between phases" : "")
            + (weightCacheBytes.map { ", weight cache \(StableSRMemoryPlan.formatBytes($0))" } ?? "")
            + ", estimated peak \(StableSRMemoryPlan.formatBytes(estimatedPeakBytes))"
    }

    /// "7.6 GiB", "512 MiB".
    public static func formatBytes(_ bytes: Int) -> String {
        bytes >= 1 << 30 ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) : String(format: "%.0f MiB", Double(bytes) / Double(1 << 20))
    }
}
