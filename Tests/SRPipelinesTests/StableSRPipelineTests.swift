import Foundation
import Testing
import SRCheckpoint
import SRDiffusion
import SRImage
import SRModels
import SRNN
@testable import SRPipelines
import SRTensor
import _TestSupport

/// StableSR end to end against the reference's tile script (fixture:
/// Tools/golden/make_stablesr_e2e_fixtures.py, IceClear/StableSR 398ee93, torch 2.15): a reduced
/// model saved in the released files' layout, an LR image that needs the ×32 padding and 2×4
/// latent tiles, 4 DDPM steps, w = 0.5, AdaIN, seed 42.
@Suite("StableSR pipeline", .tags(.golden))
struct StableSRPipelineTests {
    struct Reference: Decodable {
        struct Settings: Decodable {
            let seed: UInt64
            let steps: Int
            let dec_w: Double
            let upscale: Double
            let input_size: Int
            let tile_overlap: Int
            let colorfix_type: String
        }
        struct Values: Decodable { let shape: [Int]; let values: [Float] }
        let settings: Settings
        let timesteps: [Int]
        let padded_size: [Int]
        let lr_latent: Values
        let samples: Values
        let x_T: Values
        let decoded: Values
        let output: Values
    }
    static let reference: Reference = try! Fixtures.json("stablesr/e2e/reference.json")
    static func path(_ name: String) -> String { Fixtures.path("stablesr/e2e/" + name) }

    static func loadModel() throws -> StableSRModel {
        try StableSRModel(checkpoint: path("sr.ckpt"), configuration: path("sr.yaml"), cfwCheckpoint: path("cfw.ckpt"),
                          cfwConfiguration: path("cfw.yaml"))
    }

    static func settings() -> StableSRSettings {
        let s = reference.settings
        var settings = StableSRSettings()
        settings.steps = s.steps
        settings.decoderWeight = s.dec_w
        settings.scale = s.upscale
        settings.inputSize = s.input_size
        settings.latentTile = s.input_size / 8
        settings.latentTileOverlap = s.tile_overlap
        settings.colorCorrection = ColorCorrection(rawValue: s.colorfix_type)!
        return settings
    }

    static func psnr(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for (x, y) in zip(a, b) { let d = Double(x) - Double(y); sum += d * d }
        let mse = sum / Double(a.count)
        return mse == 0 ? .infinity : 10 * Foundation.log10(255 * 255 / mse)
    }

    @Test("The released layout loads: optimizer states skipped, the text context computed, LR latent as the reference")
    func loading() throws {
        let model = try Self.loadModel()
        #expect(model.context.shape == [1, 77, 64])
        // The optimizer's storages were removed from sr.ckpt: reading them must fail, so loading
        // above proves they were never touched.
        #expect(throws: CheckpointError.self) { try PyTorchStateDictionary(contentsOfFile: Self.path("sr.ckpt"), key: "optimizer_states").tensors() }
        let upscaler = StableSRUpscaler(model: model, settings: Self.settings())
        let lr = try Image(contentsOfFile: Self.path("lr.png"))
        let geometry = upscaler.geometry(width: lr.width, height: lr.height)
        #expect(geometry.output.width == Self.reference.output.shape[1] && geometry.output.height == Self.reference.output.shape[0])
        #expect(upscaler.makeSampler().schedule.timesteps == Self.reference.timesteps.reversed())
    }

    @Test("The command line's pipeline reproduces the reference tile script's output (≥ 40 dB)")
    func endToEnd() throws {
        let model = try Self.loadModel()
        let upscaler = StableSRUpscaler(model: model, settings: Self.settings())
        let lr = try Image(contentsOfFile: Self.path("lr.png"))
        let output = try upscaler.upscale(lr, seed: Self.reference.settings.seed)
        #expect([output.height, output.width, 3] == Self.reference.output.shape)
        let levels = output.pixels.map { ($0 * 255).rounded() }
        let value = Self.psnr(levels, Self.reference.output.values)
        let differing = zip(levels, Self.reference.output.values).filter { $0 != $1 }.count
        print("StableSR end to end: PSNR \(value) dB against the reference, \(differing) of \(levels.count) samples differ")
        #expect(value >= 40, "PSNR against the reference: \(value) dB")
    }

    @Test("Each stage against the reference: the LR latent, x_T (randn_like of a channels-last tensor), the sampled latent, the CFW decoding")
    func stages() throws {
        let model = try Self.loadModel()
        let upscaler = StableSRUpscaler(model: model, settings: Self.settings())
        let ref = Self.reference
        func tensor(_ v: Reference.Values) -> Tensor { Tensor(shape: v.shape, values: v.values) }
        let lr = try Image(contentsOfFile: Self.path("lr.png"))
        let (up, _, _) = upscaler.geometry(width: lr.width, height: lr.height)
        let signed = Image(width: lr.width, height: lr.height, channels: 3, pixels: lr.pixels.map { $0 * 2 - 1 })
        let upsampled = signed.resized(width: up.width, height: up.height, method: .torchBicubic).clipped(lower: -1, upper: 1)
        let input = Tensor(shape: [1, up.height, up.width, 3], values: upsampled.pixels)
            .padded(top: 0, bottom: ref.padded_size[0] - up.height, left: 0, right: ref.padded_size[1] - up.width, mode: .reflect)
        var generator = TorchGenerator(seed: ref.settings.seed)
        let posterior = withoutGradients { model.firstStage.encode(input) }
        let latent = posterior.sample(noise: Tensor.randomNormal(posterior.mean.shape, order: .nchw, using: &generator)) * Float(0.18215)
        #expect(relativeError(latent, tensor(ref.lr_latent)) < 1e-5)
        let noise = Tensor.randomNormal(latent.shape, order: .channelsLast, using: &generator)
        let last = upscaler.trainingSchedule.alphasCumprod[999]
        let start = latent * Float(last.squareRoot()) + noise * Float((1 - last).squareRoot())
        #expect(relativeError(start, tensor(ref.x_T)) < 1e-5)
        // From the reference's x_T, with its per-step draws.
        let tiler = TiledDenoiser(size: upscaler.settings.latentTile, overlap: upscaler.settings.latentTileOverlap, window: .stableSR)
        let samples = try withoutGradients {
            try DiffusionSampling.sample(from: tensor(ref.x_T), sampler: upscaler.makeSampler(),
                                         draw: { Tensor.randomNormal($0, order: .nchw, using: &generator) }) { x, step in
                tiler(x, step: step) { tile, tileStep in
                    let t = Tensor(shape: [1], repeating: Float(tileStep.timestep))
                    return model.unet(tile, timesteps: t, context: model.context,
                                      structure: model.encoder(latent.cropped(to: tileStep.region), timesteps: t))
                }
            }
        }
        #expect(relativeError(samples, tensor(ref.samples)) < 1e-3)
        let features = withoutGradients { model.cfw.encode(input).features }
        let decoded = withoutGradients { model.cfw.decode(tensor(ref.samples) / Float(0.18215), features: features, fusionWeight: 0.5) }
        #expect(relativeError(decoded, tensor(ref.decoded)) < 1e-4)
    }

    @Test("A converted file holds the same model: networks, shared CFW weights, context, recorded defaults")
    func convertedFile() throws {
        let model = try Self.loadModel()
        #expect(model.cfwSharesFirstStage)
        model.defaults = StableSRSettings.Recorded(sampler: .ddim, steps: 20, decoderWeight: 0.7, colorCorrection: .wavelet)
        let dir = try makeTemporaryDirectory("stablesr-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.write(to: "\(dir)/model.safetensors", dtype: .float32)
        let reopened = try StableSRModel(contentsOfFile: "\(dir)/model.safetensors")
        #expect(reopened.defaults == model.defaults)
        #expect(reopened.configuration == model.configuration && reopened.cfwConfiguration == model.cfwConfiguration)
        #expect(reopened.context.scalars == model.context.scalars)
        for (a, b) in [(model.unet as Module, reopened.unet as Module), (model.encoder, reopened.encoder), (model.firstStage, reopened.firstStage),
                       (model.cfw, reopened.cfw)] {
            let other = b.parameterDictionary()
            for (path, parameter) in a.namedParameters() { #expect(other[path]?.value.scalars == parameter.value.scalars, "\(path)") }
        }
        let settings = StableSRUpscaler(model: reopened).settings
        #expect(settings.sampler == .ddim && settings.steps == 20 && settings.decoderWeight == 0.7 && settings.colorCorrection == .wavelet)
        // Only the fusion layers of the CFW decoder are stored.
        let file = try SafeTensorsFile(contentsOfFile: "\(dir)/model.safetensors")
        #expect(file.keys.filter { $0.hasPrefix("cfw.") }.allSatisfy { $0.hasPrefix("cfw.decoder.fusion_layer_") })
        #expect(file.metadata["diffsr.family"] == "stablesr")
    }

    @Test("Pixel tiles as ImageSpliterTh places them (width outer, height inner), also when only one side exceeds the tile")
    func pixelTiles() throws {
        let upscaler = StableSRUpscaler(model: try Self.loadModel(), settings: StableSRSettings())
        // stablesr.md §6.3: 2048² → starts [0, 768] on both axes; 1312×1600 → [0, 32] × [0, 320].
        let square = upscaler.pixelTiles(height: 2048, width: 2048)
        #expect(square.map { [$0.x, $0.y] } == [[0, 0], [0, 768], [768, 0], [768, 768]])
        let oblong = upscaler.pixelTiles(height: 1312, width: 1600)
        #expect(oblong.map { [$0.x, $0.y] } == [[0, 0], [0, 32], [320, 0], [320, 32]])
        // 800×2000 crashes the reference (its weight is always 1280²); here the tiles are 800 high.
        let narrow = upscaler.pixelTiles(height: 800, width: 2000)
        #expect(narrow.map { [$0.x, $0.y, $0.height, $0.width] } == [[0, 0, 800, 1280], [720, 0, 800, 1280]])
        #expect(upscaler.pixelTiles(height: 512, width: 512).count == 1)
    }
}
