import Foundation

/// The KL autoencoder's `ddconfig` plus `embed_dim` (SD's `AutoencoderKL`, StableSR's CFW
/// `AutoencoderKLResi`), with the reference's snake_case keys.
public struct AutoencoderConfiguration: Codable, Equatable, Sendable {
    public var channels: Int
    public var channelMult: [Int]
    public var numResBlocks: Int
    /// Resolutions (in pixels of a `resolution`-sized input, halved per level) with self-attention
    /// after each residual block; SD's VAE has none (only the middle block's).
    public var attnResolutions: [Int]
    public var resolution: Int
    public var inChannels: Int
    public var outChannels: Int
    public var zChannels: Int
    public var doubleZ: Bool
    public var embedDim: Int

    enum CodingKeys: String, CodingKey {
        case channels = "ch", channelMult = "ch_mult", numResBlocks = "num_res_blocks", attnResolutions = "attn_resolutions"
        case resolution, inChannels = "in_channels", outChannels = "out_ch", zChannels = "z_channels", doubleZ = "double_z"
        case embedDim = "embed_dim"
    }

    /// SD 2.1's VAE (StableSR's first stage and CFW model).
    public static let stableDiffusion = AutoencoderConfiguration(
        channels: 128, channelMult: [1, 2, 4, 4], numResBlocks: 2, attnResolutions: [], resolution: 512, inChannels: 3, outChannels: 3,
        zChannels: 4, doubleZ: true, embedDim: 4)

    public init(channels: Int, channelMult: [Int], numResBlocks: Int, attnResolutions: [Int], resolution: Int, inChannels: Int,
                outChannels: Int, zChannels: Int, doubleZ: Bool, embedDim: Int) {
        self.channels = channels
        self.channelMult = channelMult
        self.numResBlocks = numResBlocks
        self.attnResolutions = attnResolutions
        self.resolution = resolution
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.zChannels = zChannels
        self.doubleZ = doubleZ
        self.embedDim = embedDim
    }

    /// The downsampling factor from pixels to latent.
    public var downsamplingFactor: Int { 1 << (channelMult.count - 1) }

    /// Checks the values the networks are built from; `fusion` also requires what CFW needs.
    public func validate(fusion: Bool = false) throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw LatentModelConfigurationError("autoencoder ddconfig: " + message()) }
        }
        try check(channels > 0 && !channelMult.isEmpty && channelMult.allSatisfy { $0 > 0 && ($0 * channels) % 32 == 0 },
                  "every level's width (ch × ch_mult) must be a positive multiple of 32 (GroupNorm(32))")
        try check(channels % 32 == 0, "ch must be a multiple of 32")
        try check(numResBlocks >= 1 && inChannels > 0 && outChannels > 0 && zChannels > 0 && embedDim > 0,
                  "num_res_blocks, in_channels, out_ch, z_channels and embed_dim must be positive")
        try check(doubleZ, "double_z must be true (a KL autoencoder's encoder outputs mean and log-variance)")
        try check(!fusion || channelMult.count == 4,
                  "CFW needs exactly 4 levels (the encoder's features are taken at levels 1 and 2), got \(channelMult.count)")
    }
}
