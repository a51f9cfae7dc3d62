import Foundation
import SRDiffusion

/// How StableSR samples: the reference tile script's options, with its README's defaults.
public struct StableSRSettings: Sendable, Equatable {
    /// DDPM (ancestral, as every reference ×4 script), DDIM (η) or DPM-Solver++(2M), all on the
    /// same `space_timesteps` respacing.
    public typealias Sampler = SamplerKind

    /// The settings a model file records (unset: the reference's defaults below).
    public struct Recorded: Codable, Sendable, Equatable {
        public var sampler: Sampler?
        public var steps: Int?
        public var decoderWeight: Double?
        public var colorCorrection: ColorCorrection?
        /// The model's training resolution (`--input_size`: 512, or 768 for the 768v model).
        public var inputSize: Int?
        public init(sampler: Sampler? = nil, steps: Int? = nil, decoderWeight: Double? = nil, colorCorrection: ColorCorrection? = nil,
                    inputSize: Int? = nil) {
            self.sampler = sampler
            self.steps = steps
            self.decoderWeight = decoderWeight
            self.colorCorrection = colorCorrection
            self.inputSize = inputSize
        }
        enum CodingKeys: String, CodingKey {
            case sampler, steps, decoderWeight = "dec_w", colorCorrection = "color_fix", inputSize = "input_size"
        }
    }

    public var sampler: Sampler = .ddpm
    /// Network evaluations (respaced over the 1000 training steps with `space_timesteps`).
    public var steps: Int = 200
    /// DDIM's η.
    public var eta: Double = 0
    /// Where sampling starts: the LR latent noised to the last training step (the tile script), or
    /// pure noise (the 512 script).
    public var start: DiffusionSampling.Start = .noisedCondition
    /// CFW's fidelity weight w (`--dec_w`): 0 the plain decoder (realism), 1 the trained fusion (fidelity).
    public var decoderWeight: Double = 0.5
    public var colorCorrection: ColorCorrection = .adain
    /// The upscaling factor of the output.
    public var scale: Double = 4
    /// The shorter side the input is upsampled to at least (`--input_size`: the model's training
    /// resolution); inputs whose ×scale is smaller are upsampled further and the result is scaled back.
    public var inputSize: Int = 512
    /// Latent tile side and overlap, in latent pixels (the reference: input_size / 8 and 32).
    public var latentTile: Int = 64
    public var latentTileOverlap: Int = 32
    /// Pixel tiles for inputs larger than `pixelTile` on a side (`--vqgantile_size`, `--vqgantile_stride`).
    public var pixelTile: Int = 1280
    public var pixelTileStride: Int = 1000
    /// Bytes the upscale may hold at its peak (nil: no planning, the tiles as set). With a budget,
    /// `StableSRMemoryPlan` keeps the reference's pixel tile when it fits and otherwise picks a
    /// smaller one, hands the U-Net's cached kernel layouts back before decoding, or shrinks the
    /// weight cache.
    public var memoryBudget: Int?
    /// A result with NaN or infinite values is an error (true) or written with them as 0 (false:
    /// benchmarks of random weights).
    public var rejectsNonFinite = true

    public init() {}

    /// The reference's defaults with a model's recorded settings applied.
    public init(recorded: Recorded) {
        if let sampler = recorded.sampler { self.sampler = sampler }
        if let steps = recorded.steps { self.steps = steps }
        if let w = recorded.decoderWeight { decoderWeight = w }
        if let fix = recorded.colorCorrection { colorCorrection = fix }
        if let size = recorded.inputSize {
            inputSize = size
            (latentTile, latentTileOverlap) = (size / 8, size / 16)
        }
    }

    /// One line: "ddim 20 steps, w 0.5, color fix wavelet, start from condition, latent tile 16/8".
    public var summary: String {
        "\(sampler.rawValue) \(steps) steps, w \(decoderWeight), color fix \(colorCorrection.rawValue), start from \(start.rawValue), latent tile \(latentTile)/\(latentTileOverlap)"
    }

    /// Checks the values; the message names the option.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws { if !condition { throw StableSRModel.LoadError(message) } }
        try check(steps >= 1 && steps <= 1000, "steps must be in 1...1000, got \(steps)")
        try check(eta >= 0, "eta must be non-negative")
        try check((0...1).contains(decoderWeight), "the CFW weight (--dec-w) must be in [0, 1], got \(decoderWeight)")
        try check(scale >= 1 && scale <= 16, "scale must be in 1...16, got \(scale)")
        try check(inputSize >= 8 && inputSize % 8 == 0, "the input size must be a positive multiple of 8, got \(inputSize)")
        try check(latentTile >= 1 && latentTileOverlap >= 0 && latentTileOverlap < latentTile,
                  "the tile overlap must be smaller than the tile (latent tile \(latentTile), overlap \(latentTileOverlap))")
        try check(pixelTile >= 32 && pixelTile % 32 == 0, "the pixel tile must be a multiple of 32, got \(pixelTile)")
        try check(pixelTileStride >= 1 && pixelTileStride <= pixelTile, "the pixel tile stride must be in 1...\(pixelTile)")
    }
}
