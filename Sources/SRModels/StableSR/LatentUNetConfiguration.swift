import Foundation

/// What is wrong with a StableSR network configuration.
public struct LatentModelConfigurationError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The parameters of StableSR's dual-condition U-Net (`UNetModelDualcondV2`), as written under
/// `model.params.unet_config.params` of the reference YAML (snake_case keys; absent keys take the
/// reference's defaults).
///
/// Supported: the configurations of the released StableSR and SD 2.x models — spatial
/// transformers with linear projections, learned up/down-sampling convolutions, no scale-shift
/// norm, no class labels, 2-D. Anything else is refused with a message naming the key.
public struct LatentUNetConfiguration: Codable, Equatable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var modelChannels: Int
    /// Residual blocks per level (an Int in the YAML, or one per level).
    public var numResBlocks: [Int]
    /// Downsampling factors (1, 2, 4, …) at which blocks get a spatial transformer.
    public var attentionResolutions: [Int]
    public var channelMult: [Int]
    public var numHeads: Int
    public var numHeadChannels: Int
    public var transformerDepth: Int
    public var contextDim: Int
    /// Channels of the time-aware encoder's features (SPADE input); 0 builds plain residual blocks
    /// without SPADE (SD's `UNetModel`: the diffusion prior that StableSR's stage 1 steers).
    public var sembChannels: Int
    public var legacy: Bool
    public var dropout: Double

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", modelChannels = "model_channels"
        case numResBlocks = "num_res_blocks", attentionResolutions = "attention_resolutions", channelMult = "channel_mult"
        case numHeads = "num_heads", numHeadChannels = "num_head_channels", transformerDepth = "transformer_depth"
        case contextDim = "context_dim", sembChannels = "semb_channels", legacy, dropout
        case useSpatialTransformer = "use_spatial_transformer", useLinearInTransformer = "use_linear_in_transformer"
        case useScaleShiftNorm = "use_scale_shift_norm", resblockUpdown = "resblock_updown", convResample = "conv_resample"
        case dims, numClasses = "num_classes", disableSelfAttentions = "disable_self_attentions"
        case numAttentionBlocks = "num_attention_blocks", disableMiddleSelfAttn = "disable_middle_self_attn"
        case useNewAttentionOrder = "use_new_attention_order"
    }

    /// The released StableSR ×4 model (`v2-finetune_text_T_512.yaml`; the 768v model has the same network).
    public static let stableSR = LatentUNetConfiguration(
        inChannels: 4, outChannels: 4, modelChannels: 320, numResBlocks: [2, 2, 2, 2], attentionResolutions: [4, 2, 1],
        channelMult: [1, 2, 4, 4], numHeads: -1, numHeadChannels: 64, transformerDepth: 1, contextDim: 1024, sembChannels: 256,
        legacy: false, dropout: 0)

    public init(inChannels: Int, outChannels: Int, modelChannels: Int, numResBlocks: [Int], attentionResolutions: [Int],
                channelMult: [Int], numHeads: Int, numHeadChannels: Int, transformerDepth: Int, contextDim: Int,
                sembChannels: Int, legacy: Bool, dropout: Double) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.modelChannels = modelChannels
        self.numResBlocks = numResBlocks
        self.attentionResolutions = attentionResolutions
        self.channelMult = channelMult
        self.numHeads = numHeads
        self.numHeadChannels = numHeadChannels
        self.transformerDepth = transformerDepth
        self.contextDim = contextDim
        self.sembChannels = sembChannels
        self.legacy = legacy
        self.dropout = dropout
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.useSpatialTransformer, .useLinearInTransformer, .convResample] { try c.refuse(key, unless: true, in: "unet_config") }
        for key in [CodingKeys.useScaleShiftNorm, .resblockUpdown, .disableMiddleSelfAttn, .useNewAttentionOrder] {
            try c.refuse(key, unless: false, in: "unet_config")
        }
        try c.refuse(.dims, unless: 2, in: "unet_config")
        if c.contains(.numClasses), try !c.decodeNil(forKey: .numClasses) {
            throw LatentModelConfigurationError("unet_config: num_classes (class-conditional U-Nets) is not supported")
        }
        for key in [CodingKeys.disableSelfAttentions, .numAttentionBlocks] where c.contains(key) {
            if try !c.decodeNil(forKey: key) { throw LatentModelConfigurationError("unet_config: \(key.rawValue) is not supported") }
        }
        inChannels = try c.decode(Int.self, forKey: .inChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        modelChannels = try c.decode(Int.self, forKey: .modelChannels)
        channelMult = try c.decodeIfPresent([Int].self, forKey: .channelMult) ?? [1, 2, 4, 8]
        if let perLevel = try? c.decode([Int].self, forKey: .numResBlocks) {
            numResBlocks = perLevel
        } else {
            numResBlocks = Array(repeating: try c.decode(Int.self, forKey: .numResBlocks), count: channelMult.count)
        }
        attentionResolutions = try c.decode([Int].self, forKey: .attentionResolutions)
        numHeads = try c.decodeIfPresent(Int.self, forKey: .numHeads) ?? -1
        numHeadChannels = try c.decodeIfPresent(Int.self, forKey: .numHeadChannels) ?? -1
        transformerDepth = try c.decodeIfPresent(Int.self, forKey: .transformerDepth) ?? 1
        contextDim = try c.decode(Int.self, forKey: .contextDim)
        sembChannels = try c.decode(Int.self, forKey: .sembChannels)
        legacy = try c.decodeIfPresent(Bool.self, forKey: .legacy) ?? true
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(modelChannels, forKey: .modelChannels)
        try c.encode(numResBlocks, forKey: .numResBlocks)
        try c.encode(attentionResolutions, forKey: .attentionResolutions)
        try c.encode(channelMult, forKey: .channelMult)
        try c.encode(numHeads, forKey: .numHeads)
        try c.encode(numHeadChannels, forKey: .numHeadChannels)
        try c.encode(transformerDepth, forKey: .transformerDepth)
        try c.encode(contextDim, forKey: .contextDim)
        try c.encode(sembChannels, forKey: .sembChannels)
        try c.encode(legacy, forKey: .legacy)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(true, forKey: .useSpatialTransformer)
        try c.encode(true, forKey: .useLinearInTransformer)
    }

    /// Checks the values the network is built from.
    public func validate() throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw LatentModelConfigurationError("unet_config: " + message()) }
        }
        try check(inChannels > 0 && outChannels > 0, "in_channels and out_channels must be positive")
        try check(modelChannels > 0 && !channelMult.isEmpty && channelMult.allSatisfy { $0 > 0 }, "model_channels and channel_mult must be positive")
        try check(channelMult.allSatisfy { ($0 * modelChannels) % 32 == 0 }, "every level's width (model_channels × channel_mult) must be a multiple of 32 (GroupNorm(32))")
        try check(numResBlocks.count == channelMult.count && numResBlocks.allSatisfy { $0 >= 1 }, "num_res_blocks must be positive, one per level")
        try check(numHeads > 0 || numHeadChannels > 0, "either num_heads or num_head_channels has to be set")
        try check(numHeadChannels <= 0 || channelMult.allSatisfy { ($0 * modelChannels) % numHeadChannels == 0 },
                  "num_head_channels \(numHeadChannels) must divide every level's width")
        try check(numHeadChannels > 0 || channelMult.allSatisfy { ($0 * modelChannels) % numHeads == 0 },
                  "num_heads \(numHeads) must divide every level's width")
        try check(transformerDepth >= 1 && contextDim > 0, "transformer_depth and context_dim must be positive")
        try check(sembChannels >= 0, "semb_channels must be positive (or 0: no structure conditioning)")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)")
    }

    /// Whether the residual blocks take the time-aware encoder's features (SPADE).
    public var hasStructureConditioning: Bool { sembChannels > 0 }

    /// Heads and head width of a transformer at `channels`, as the reference computes them
    /// (num_head_channels wins; `legacy` recomputes the head width from the head count).
    func attentionHeads(channels: Int) -> (heads: Int, headWidth: Int) {
        var heads = numHeads, headWidth: Int
        if numHeadChannels == -1 { headWidth = channels / numHeads } else { heads = channels / numHeadChannels; headWidth = numHeadChannels }
        if legacy { headWidth = channels / heads }
        return (heads, headWidth)
    }

    /// The factor the latent's height and width must be divisible by (one halving per level
    /// below the first, and the ×2 upsampling must meet the skip connections).
    public var sizeMultiple: Int { 1 << (channelMult.count - 1) }
}

/// The parameters of StableSR's time-aware encoder (`EncoderUNetModelWT`), as written under
/// `model.params.structcond_stage_config.params`.
public struct TimeAwareEncoderConfiguration: Codable, Equatable, Sendable {
    public var inChannels: Int
    public var modelChannels: Int
    /// The features' channels (the U-Net's `semb_channels`).
    public var outChannels: Int
    public var numResBlocks: Int
    public var attentionResolutions: [Int]
    public var channelMult: [Int]
    public var numHeads: Int
    public var numHeadChannels: Int
    public var dropout: Double
    /// Whether the encoder sees the timestep (true: `EncoderUNetModelWT`). false is this project's
    /// ablation of the paper's "w/o time-aware" row: the encoder's time embedding is that of t = 0 at
    /// every step, so its features cannot depend on the noise level (`"time_input": false`; the
    /// reference has no such key and the key is written only when false).
    public var timeInput: Bool = true

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", modelChannels = "model_channels", outChannels = "out_channels"
        case numResBlocks = "num_res_blocks", attentionResolutions = "attention_resolutions", channelMult = "channel_mult"
        case numHeads = "num_heads", numHeadChannels = "num_head_channels", dropout, timeInput = "time_input"
        case useScaleShiftNorm = "use_scale_shift_norm", resblockUpdown = "resblock_updown", convResample = "conv_resample"
        case dims, useNewAttentionOrder = "use_new_attention_order"
    }

    /// The released StableSR encoder (`v2-finetune_text_T_512.yaml`).
    public static let stableSR = TimeAwareEncoderConfiguration(
        inChannels: 4, modelChannels: 256, outChannels: 256, numResBlocks: 2, attentionResolutions: [4, 2, 1],
        channelMult: [1, 1, 2, 2], numHeads: 4, numHeadChannels: -1, dropout: 0)

    public init(inChannels: Int, modelChannels: Int, outChannels: Int, numResBlocks: Int, attentionResolutions: [Int],
                channelMult: [Int], numHeads: Int, numHeadChannels: Int, dropout: Double) {
        self.inChannels = inChannels
        self.modelChannels = modelChannels
        self.outChannels = outChannels
        self.numResBlocks = numResBlocks
        self.attentionResolutions = attentionResolutions
        self.channelMult = channelMult
        self.numHeads = numHeads
        self.numHeadChannels = numHeadChannels
        self.dropout = dropout
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in [CodingKeys.useScaleShiftNorm, .resblockUpdown, .useNewAttentionOrder] {
            try c.refuse(key, unless: false, in: "structcond_stage_config")
        }
        try c.refuse(.convResample, unless: true, in: "structcond_stage_config")
        try c.refuse(.dims, unless: 2, in: "structcond_stage_config")
        inChannels = try c.decode(Int.self, forKey: .inChannels)
        modelChannels = try c.decode(Int.self, forKey: .modelChannels)
        outChannels = try c.decode(Int.self, forKey: .outChannels)
        numResBlocks = try c.decode(Int.self, forKey: .numResBlocks)
        attentionResolutions = try c.decode([Int].self, forKey: .attentionResolutions)
        channelMult = try c.decodeIfPresent([Int].self, forKey: .channelMult) ?? [1, 2, 4, 8]
        numHeads = try c.decodeIfPresent(Int.self, forKey: .numHeads) ?? 1
        numHeadChannels = try c.decodeIfPresent(Int.self, forKey: .numHeadChannels) ?? -1
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
        timeInput = try c.decodeIfPresent(Bool.self, forKey: .timeInput) ?? true
        try validate()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(modelChannels, forKey: .modelChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(numResBlocks, forKey: .numResBlocks)
        try c.encode(attentionResolutions, forKey: .attentionResolutions)
        try c.encode(channelMult, forKey: .channelMult)
        try c.encode(numHeads, forKey: .numHeads)
        try c.encode(numHeadChannels, forKey: .numHeadChannels)
        try c.encode(dropout, forKey: .dropout)
        if !timeInput { try c.encode(false, forKey: .timeInput) }
    }

    /// Checks the values the network is built from.
    public func validate() throws {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw LatentModelConfigurationError("structcond_stage_config: " + message()) }
        }
        try check(inChannels > 0 && outChannels > 0 && numResBlocks >= 1, "in_channels, out_channels and num_res_blocks must be positive")
        try check(modelChannels > 0 && !channelMult.isEmpty && channelMult.allSatisfy { ($0 * modelChannels) % 32 == 0 && $0 > 0 },
                  "every level's width (model_channels × channel_mult) must be a positive multiple of 32 (GroupNorm(32))")
        try check(numHeads > 0 || numHeadChannels > 0, "either num_heads or num_head_channels has to be set")
        try check(channelMult.allSatisfy { heads(channels: $0 * modelChannels) > 0 && ($0 * modelChannels) % heads(channels: $0 * modelChannels) == 0 },
                  "the attention heads must divide every level's width")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)")
    }

    /// Heads of an attention block at `channels` (num_head_channels wins when set).
    func heads(channels: Int) -> Int { numHeadChannels == -1 ? numHeads : channels / numHeadChannels }
}

extension KeyedDecodingContainer {
    /// Throws when `key` is present with another value than the one supported (an option of the
    /// reference's networks this port does not build), naming the configuration section and key.
    func refuse<T: Decodable & Equatable>(_ key: Key, unless supported: T, in section: String) throws {
        if let value = try decodeIfPresent(T.self, forKey: key), value != supported {
            throw LatentModelConfigurationError("\(section): \(key.stringValue) = \(value) is not supported (only \(supported))")
        }
    }
}
