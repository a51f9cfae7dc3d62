import ArgumentParser
import DiffusionSR
import Foundation

extension SR3Upscaler.SamplerKind: ExpressibleByArgument {}
extension ColorCorrection: ExpressibleByArgument {}

/// How a diffusion model samples: the options `upscale` and `benchmark` share.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampler: ddpm, ddim or dpm-solver++ (default: the model's recorded sampler, else ddim).")
    var sampler: SR3Upscaler.SamplerKind?

    @Option(help: "Number of network evaluations, respaced over the training schedule (default: the model's recorded step count, else 10).")
    var steps: Int?

    @Option(help: "DDIM stochasticity (0 = deterministic).")
    var eta: Double = 0

    @Option(help: "Tile size in output pixels (multiple of the model's size multiple; StableSR: of 8, one latent pixel); images larger than a tile are denoised in overlapping tiles blended at every step. Default: no tiling (StableSR: the model's input size, 512).")
    var tile: Int?

    @Option(help: "Tile overlap in output pixels (default 32; StableSR: half the input size, 256 = 32 latent pixels).")
    var tileOverlap: Int?

    @Option(help: "SR3+ models: test-time augmentation level t_eval in [0, 1] (higher: more realism, less fidelity; default: the level recorded in the model, else 0).")
    var augLevel: Double?

    @Option(help: "Color correction against the upsampled input: none, adain or wavelet (default: the model's recorded one, else none).")
    var colorFix: ColorCorrection?

    @Option(help: "Where sampling starts: auto (the model's schedule decides), noise (the reference), or condition (the upsampled input noised to the first step's level).")
    var start: StartOption = .auto

    enum StartOption: String, ExpressibleByArgument, CaseIterable {
        case auto, noise, condition
        var value: DiffusionSampling.Start? {
            switch self {
            case .auto: return nil
            case .noise: return .noise
            case .condition: return .noisedCondition
            }
        }
    }

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if eta < 0 { throw ValidationError("--eta must be non-negative, got \(eta)") }
        if let augLevel, !(0...1).contains(augLevel) { throw ValidationError("--aug-level must be in [0, 1], got \(augLevel)") }
        if let tile, tile < 8 || (tileOverlap ?? 0) < 0 || (tileOverlap ?? 0) >= tile {
            throw ValidationError("--tile must be at least 8 and --tile-overlap in 0..<tile")
        }
    }

    /// The settings for a benchmark method.
    func settings(seed: UInt64, samples: Int) -> SamplingSettings {
        SamplingSettings(sampler: sampler, steps: steps, eta: eta, seed: seed, samples: samples, tile: tile, tileOverlap: tileOverlap ?? 32,
                         colorCorrection: colorFix, augmentationLevel: augLevel, start: start.value)
    }
}

/// StableSR's own options (`diffsr upscale` with a StableSR model).
struct StableSROptions: ParsableArguments {
    @Option(help: "StableSR: the CFW checkpoint (vqgan_cfw_00011.ckpt) for a released .ckpt model.")
    var cfwModel: String?

    @Option(help: "StableSR: the CFW checkpoint's YAML (configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml).")
    var cfwConfig: String?

    @Option(help: "StableSR: CFW's fidelity weight w in [0, 1] (0: the plain decoder, more realism; 1: more fidelity; default: the model's recorded one, else 0.5).")
    var decW: Double?

    @Option(help: "StableSR: the shorter side the input is upsampled to at least (the model's training size; default: the model's recorded one, else 512).")
    var inputSize: Int?

    @Option(help: "StableSR: pixel tile side for large inputs, a multiple of 32 (default 1280).")
    var pixelTile: Int?

    @Option(help: "StableSR: pixel tile stride (default 1000).")
    var pixelTileStride: Int?

    @Option(help: "StableSR: memory the upscale may hold at its peak, e.g. 8GiB or 6000MiB; 'auto' (default): what is resident now plus 80% of the available memory; 'none': no planning. Within it the reference's pixel tile is kept when it fits, else a smaller one is chosen, the U-Net's cached kernel layouts are handed back between phases, or the weight cache shrinks (--verbose prints the choice); a budget that cannot be met is an error.")
    var memoryBudget: MemoryBudget?

    @Flag(help: "Print each image's memory plan (StableSR).")
    var verbose = false

    func validate() throws {
        if let decW, !(0...1).contains(decW) { throw ValidationError("--dec-w must be in [0, 1], got \(decW)") }
        if let inputSize, inputSize < 8 || inputSize % 8 != 0 { throw ValidationError("--input-size must be a positive multiple of 8") }
        if let pixelTile, pixelTile < 32 || pixelTile % 32 != 0 { throw ValidationError("--pixel-tile must be a positive multiple of 32") }
        if let pixelTileStride, pixelTileStride < 1 || pixelTileStride > (pixelTile ?? 1280) {
            throw ValidationError("--pixel-tile-stride must be in 1...\(pixelTile ?? 1280)")
        }
    }

    /// The settings for `model` from its recorded defaults and these options.
    func settings(for model: StableSRModel, sampling: SamplingOptions, scale: Int?) throws -> StableSRSettings {
        var s = StableSRSettings(recorded: model.defaults)
        if let sampler = sampling.sampler { s.sampler = sampler }
        if let steps = sampling.steps { s.steps = steps }
        s.eta = sampling.eta
        if let fix = sampling.colorFix { s.colorCorrection = fix }
        if let decW { s.decoderWeight = decW }
        if sampling.start == .noise { s.start = .noise }
        if let scale { s.scale = Double(scale) }
        if let inputSize { s.inputSize = inputSize }
        if sampling.augLevel != nil { throw CommandError("--aug-level is for SR3+ models; StableSR has no condition augmentation") }
        let tile = sampling.tile ?? s.inputSize, overlap = sampling.tileOverlap ?? s.inputSize / 2
        guard tile % 8 == 0, overlap % 8 == 0 else {
            throw CommandError("StableSR tiles are in latent pixels: --tile (\(tile)) and --tile-overlap (\(overlap)) must be multiples of 8")
        }
        (s.latentTile, s.latentTileOverlap) = (tile / 8, overlap / 8)
        if let pixelTile { s.pixelTile = pixelTile }
        if let pixelTileStride { s.pixelTileStride = pixelTileStride }
        s.memoryBudget = try (memoryBudget ?? .automatic).bytes()
        try s.validate()
        return s
    }
}


/// `--memory-budget`: a size (`8GiB`, `6000MiB`, `8G`, `512M`, bytes), `auto` or `none`.
enum MemoryBudget: ExpressibleByArgument, Equatable {
    case automatic, unlimited
    case bytes(Int)

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        switch text {
        case "auto": self = .automatic
        case "none": self = .unlimited
        default:
            let units: [(String, Int)] = [("gib", 1 << 30), ("mib", 1 << 20), ("kib", 1 << 10), ("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10), ("b", 1)]
            var number = text, multiplier = 1
            if let (suffix, value) = units.first(where: { text.hasSuffix($0.0) }) {
                number = String(text.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
                multiplier = value
            }
            guard let value = Double(number), value.isFinite, value > 0, value * Double(multiplier) < 1e15 else { return nil }
            self = .bytes(Int(value * Double(multiplier)))
        }
    }

    static var defaultValueDescription: String { "auto" }

    /// Bytes, or nil for no planning; `auto` reads the available memory (`/proc/meminfo`).
    func bytes() throws -> Int? {
        switch self {
        case .unlimited: return nil
        case .bytes(let value): return value
        case .automatic:
            guard let available = MemoryBudget.availableBytes() else { return nil }
            return TensorMemory.liveBytes + available * 4 / 5
        }
    }

    /// `MemAvailable` of `/proc/meminfo` (nil where there is none).
    static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }
}
