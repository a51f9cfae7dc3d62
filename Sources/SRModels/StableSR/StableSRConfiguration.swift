import Foundation
import Yams

/// What a StableSR network predicts (`parameterization` of the reference's `DDPM`).
public enum LatentParameterization: String, Codable, Sendable {
    /// ε, the noise (the 512 model; the reference's default when the key is absent).
    case epsilon = "eps"
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (the 768v model).
    case velocity = "v"
}

/// A StableSR model's configuration as the reference writes it (`configs/stableSRNew/*.yaml`,
/// `model.params` of `LatentDiffusionSRTextWT`): the U-Net, the time-aware encoder, the
/// parameterization and the training noise schedule, and the latent scale factor.
public struct StableSRConfiguration: Codable, Equatable, Sendable {
    public var unet: LatentUNetConfiguration
    public var encoder: TimeAwareEncoderConfiguration
    public var parameterization: LatentParameterization
    /// The "linear" schedule of ldm: β = linspace(√start, √end, timesteps)².
    public var linearStart: Double
    public var linearEnd: Double
    public var timesteps: Int
    /// The latent is `scaleFactor` × the autoencoder's posterior sample.
    public var scaleFactor: Double

    enum CodingKeys: String, CodingKey {
        case unet, encoder, parameterization, linearStart = "linear_start", linearEnd = "linear_end", timesteps
        case scaleFactor = "scale_factor"
    }

    /// The released ×4 model (`v2-finetune_text_T_512.yaml`).
    public static let stableSR512 = StableSRConfiguration(unet: .stableSR, encoder: .stableSR, parameterization: .epsilon,
                                                          linearStart: 0.00085, linearEnd: 0.012, timesteps: 1000, scaleFactor: 0.18215)

    public init(unet: LatentUNetConfiguration, encoder: TimeAwareEncoderConfiguration, parameterization: LatentParameterization,
                linearStart: Double, linearEnd: Double, timesteps: Int, scaleFactor: Double) {
        self.unet = unet
        self.encoder = encoder
        self.parameterization = parameterization
        self.linearStart = linearStart
        self.linearEnd = linearEnd
        self.timesteps = timesteps
        self.scaleFactor = scaleFactor
    }

    /// Reads the reference's YAML: `model.params` with its `unet_config` (`UNetModelDualcondV2`)
    /// and `structcond_stage_config` (`EncoderUNetModelWT`); other keys (training, data,
    /// Lightning) are ignored.
    /// - Throws: `LatentModelConfigurationError` naming the missing or unsupported key.
    public init(yaml text: String) throws {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw LatentModelConfigurationError("not a readable YAML file: \(error)")
        }
        guard let params = root?["model"]?["params"] else {
            throw LatentModelConfigurationError("no model.params in the YAML (not a StableSR model configuration)")
        }
        func stage(_ key: String, target expected: String) throws -> Node {
            guard let stage = params[key] else { throw LatentModelConfigurationError("model.params.\(key) is missing") }
            let target = stage["target"]?.string ?? ""
            guard target.split(separator: ".").last.map(String.init) == expected else {
                throw LatentModelConfigurationError("model.params.\(key).target is \(target.isEmpty ? "missing" : target), expected …\(expected)")
            }
            guard let stageParams = stage["params"] else { throw LatentModelConfigurationError("model.params.\(key).params is missing") }
            return stageParams
        }
        func decode<T: Decodable>(_ type: T.Type, _ node: Node, _ key: String) throws -> T {
            do { return try YAMLDecoder().decode(T.self, from: node) } catch let error as LatentModelConfigurationError {
                throw error
            } catch let DecodingError.keyNotFound(missing, _) {
                throw LatentModelConfigurationError("\(key): \(missing.stringValue) is missing")
            } catch {
                throw LatentModelConfigurationError("\(key): \(error)")
            }
        }
        unet = try decode(LatentUNetConfiguration.self, try stage("unet_config", target: "UNetModelDualcondV2"), "unet_config")
        encoder = try decode(TimeAwareEncoderConfiguration.self, try stage("structcond_stage_config", target: "EncoderUNetModelWT"),
                             "structcond_stage_config")
        let kind = params["parameterization"]?.string ?? "eps"
        guard let parameterization = LatentParameterization(rawValue: kind) else {
            throw LatentModelConfigurationError("model.params.parameterization \(kind) is not supported (eps or v)")
        }
        self.parameterization = parameterization
        linearStart = params["linear_start"]?.float ?? 1e-4
        linearEnd = params["linear_end"]?.float ?? 2e-2
        timesteps = params["timesteps"]?.int ?? 1000
        scaleFactor = params["scale_factor"]?.float ?? 1
        try validate()
    }

    /// Reads a reference YAML file (`init(yaml:)`).
    public init(contentsOfYAMLFile path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LatentModelConfigurationError("cannot read the model configuration \(path): \(error.localizedDescription)")
        }
        do { try self.init(yaml: text) } catch let error as LatentModelConfigurationError {
            throw LatentModelConfigurationError("\(path): \(error.message)")
        }
    }

    /// Checks that the parts fit together.
    public func validate() throws {
        try unet.validate()
        try encoder.validate()
        if encoder.outChannels != unet.sembChannels {
            throw LatentModelConfigurationError("the encoder's out_channels (\(encoder.outChannels)) must equal the U-Net's semb_channels (\(unet.sembChannels))")
        }
        if encoder.channelMult.count != unet.channelMult.count {
            throw LatentModelConfigurationError("the encoder has \(encoder.channelMult.count) levels and the U-Net \(unet.channelMult.count): every U-Net width needs an encoder feature")
        }
        if encoder.inChannels != unet.inChannels {
            throw LatentModelConfigurationError("the encoder reads \(encoder.inChannels) latent channels and the U-Net \(unet.inChannels)")
        }
        if !(linearStart > 0 && linearEnd > linearStart && linearEnd < 1 && timesteps >= 2 && scaleFactor > 0) {
            throw LatentModelConfigurationError("the noise schedule (linear_start \(linearStart), linear_end \(linearEnd), timesteps \(timesteps)) or scale_factor \(scaleFactor) is invalid")
        }
    }
}
