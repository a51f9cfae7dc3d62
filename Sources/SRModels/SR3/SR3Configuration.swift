import Foundation

/// The `model.unet` section of an SR3 config (Janspiry/Image-Super-Resolution-via-Iterative-
/// Refinement `config/*.json`), with the same snake_case keys.
public struct SR3UNetConfiguration: Codable, Sendable, Equatable {
    public var inChannel: Int
    public var outChannel: Int
    public var innerChannel: Int
    /// GroupNorm groups (the reference defaults to 32 when absent).
    public var normGroups: Int
    public var channelMultiplier: [Int]
    /// Resolutions (in pixels of the model input) whose blocks get self-attention.
    public var attnRes: [Int]
    public var resBlocks: Int
    public var dropout: Float
    /// The training image size (the reference takes it from `model.diffusion.image_size`); with
    /// `attnRes` it decides which levels have attention. The model runs at any size divisible by
    /// 2^(levels−1).
    public var imageSize: Int
    /// SR3+ noise-conditioning augmentation: a second embedding (`aug_level_mlp`) of the condition's
    /// augmentation level, added to the noise-level embedding. False for SR3 (and when absent).
    public var conditionAugmentation: Bool

    enum CodingKeys: String, CodingKey {
        case inChannel = "in_channel", outChannel = "out_channel", innerChannel = "inner_channel"
        case normGroups = "norm_groups", channelMultiplier = "channel_multiplier", attnRes = "attn_res"
        case resBlocks = "res_blocks", dropout, imageSize = "image_size", conditionAugmentation = "condition_augmentation"
    }

    public init(inChannel: Int = 6, outChannel: Int = 3, innerChannel: Int = 64, normGroups: Int = 32,
                channelMultiplier: [Int] = [1, 2, 4, 8, 8], attnRes: [Int] = [16], resBlocks: Int = 2,
                dropout: Float = 0.2, imageSize: Int = 128, conditionAugmentation: Bool = false) {
        self.inChannel = inChannel
        self.outChannel = outChannel
        self.innerChannel = innerChannel
        self.normGroups = normGroups
        self.channelMultiplier = channelMultiplier
        self.attnRes = attnRes
        self.resBlocks = resBlocks
        self.dropout = dropout
        self.imageSize = imageSize
        self.conditionAugmentation = conditionAugmentation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannel = try c.decode(Int.self, forKey: .inChannel)
        outChannel = try c.decode(Int.self, forKey: .outChannel)
        innerChannel = try c.decode(Int.self, forKey: .innerChannel)
        normGroups = try c.decodeIfPresent(Int.self, forKey: .normGroups) ?? 32
        channelMultiplier = try c.decode([Int].self, forKey: .channelMultiplier)
        attnRes = try c.decodeIfPresent([Int].self, forKey: .attnRes) ?? []
        resBlocks = try c.decode(Int.self, forKey: .resBlocks)
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? 0
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 128
        conditionAugmentation = try c.decodeIfPresent(Bool.self, forKey: .conditionAugmentation) ?? false
    }

    /// Checks the values a U-Net can be built from.
    public func validate() throws {
        func fail(_ why: String) -> SR3ConfigurationError { .invalid(why) }
        guard inChannel > 0, outChannel > 0, innerChannel > 0, resBlocks > 0, !channelMultiplier.isEmpty else {
            throw fail("channels, res_blocks and channel_multiplier must be positive")
        }
        guard channelMultiplier.allSatisfy({ $0 > 0 && (innerChannel * $0) % normGroups == 0 }), innerChannel % normGroups == 0 else {
            throw fail("every level's channels (inner_channel × multiplier) must divide into norm_groups = \(normGroups)")
        }
        guard (0..<1).contains(dropout) else { throw fail("dropout must be in [0, 1), got \(dropout)") }
    }
}

/// Errors of SR3 configuration files.
public enum SR3ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let why): return "invalid SR3 configuration: \(why)"
        case .unreadable(let path, let reason): return "\(path): cannot read SR3 configuration (\(reason))"
        }
    }
}

/// Removes `//` and `/* */` comments from JSON text (the reference configs have them), leaving
/// string contents untouched.
public func strippingJSONComments(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    var inString = false, escaped = false
    var iterator = Array(text.unicodeScalars)[...]
    while let c = iterator.popFirst() {
        if inString {
            out.unicodeScalars.append(c)
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            continue
        }
        if c == "\"" { inString = true; out.unicodeScalars.append(c); continue }
        if c == "/", let next = iterator.first {
            if next == "/" {
                while let d = iterator.first, d != "\n" { iterator.removeFirst() }
                continue
            }
            if next == "*" {
                iterator.removeFirst()
                var previous: Unicode.Scalar = " "
                while let d = iterator.popFirst() {
                    if previous == "*" && d == "/" { break }
                    previous = d
                }
                continue
            }
        }
        out.unicodeScalars.append(c)
    }
    return out
}

extension SR3UNetConfiguration {
    /// Reads `model.unet` (and `model.diffusion.image_size`) from a reference config file
    /// (JSON with comments).
    public init(referenceConfigAt path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SR3ConfigurationError.unreadable(path: path, reason: "no such file or unreadable")
        }
        try self.init(referenceConfigText: String(decoding: data, as: UTF8.self), name: path)
    }

    public init(referenceConfigText text: String, name: String = "<config>") throws {
        let clean = strippingJSONComments(text)
        guard let root = try? JSONSerialization.jsonObject(with: Data(clean.utf8)) as? [String: Any],
              let model = root["model"] as? [String: Any], var unet = model["unet"] as? [String: Any] else {
            throw SR3ConfigurationError.unreadable(path: name, reason: "no model.unet section")
        }
        if unet["image_size"] == nil, let diffusion = model["diffusion"] as? [String: Any], let size = diffusion["image_size"] {
            unet["image_size"] = size
        }
        let data = try JSONSerialization.data(withJSONObject: unet)
        do {
            self = try JSONDecoder().decode(SR3UNetConfiguration.self, from: data)
        } catch {
            throw SR3ConfigurationError.unreadable(path: name, reason: "model.unet: \(error)")
        }
        try validate()
    }
}
