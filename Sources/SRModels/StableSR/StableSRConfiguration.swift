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
    /// The first stage (`first_stage_config`: SD's KL autoencoder in the released models; TAEF2 in
    /// the models trained here).
    public var autoencoder: LatentAutoencoderConfiguration
    public var parameterization: LatentParameterization
    /// The "linear" schedule of ldm: β = linspace(√start, √end, timesteps)².
    public var linearStart: Double
    public var linearEnd: Double
    public var timesteps: Int
    /// The latent is `scaleFactor` × the autoencoder's posterior sample.
    public var scaleFactor: Double

    enum CodingKeys: String, CodingKey {
        case unet, encoder, autoencoder, parameterization, linearStart = "linear_start", linearEnd = "linear_end", timesteps
        case scaleFactor = "scale_factor"
    }

    /// The released ×4 model (`v2-finetune_text_T_512.yaml`).
    public static let stableSR512 = StableSRConfiguration(unet: .stableSR, encoder: .stableSR, autoencoder: .kl(.stableDiffusion),
                                                          parameterization: .epsilon,
                                                          linearStart: 0.00085, linearEnd: 0.012, timesteps: 1000, scaleFactor: 0.18215)

    public init(unet: LatentUNetConfiguration, encoder: TimeAwareEncoderConfiguration, autoencoder: LatentAutoencoderConfiguration,
                parameterization: LatentParameterization, linearStart: Double, linearEnd: Double, timesteps: Int, scaleFactor: Double) {
        self.unet = unet
        self.encoder = encoder
        self.autoencoder = autoencoder
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
        unet = try decodeYAML(LatentUNetConfiguration.self, try stage("unet_config", target: "UNetModelDualcondV2"), "unet_config")
        encoder = try decodeYAML(TimeAwareEncoderConfiguration.self, try stage("structcond_stage_config", target: "EncoderUNetModelWT"),
                                 "structcond_stage_config")
        autoencoder = .kl(try AutoencoderConfiguration(referenceParameters: try stage("first_stage_config", target: "AutoencoderKL"),
                                                   "first_stage_config"))
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
        try autoencoder.validate()
        if autoencoder.latentChannels != unet.inChannels || unet.outChannels != unet.inChannels {
            throw LatentModelConfigurationError("the autoencoder's latent channels (embed_dim or latent_channels: \(autoencoder.latentChannels)) must equal the U-Net's in_channels and out_channels (\(unet.inChannels), \(unet.outChannels))")
        }
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

/// Decodes a reference configuration node, turning decoding errors into one line naming the key.
func decodeYAML<T: Decodable>(_ type: T.Type, _ node: Node, _ key: String) throws -> T {
    do { return try YAMLDecoder().decode(T.self, from: node) } catch let error as LatentModelConfigurationError {
        throw error
    } catch let DecodingError.keyNotFound(missing, _) {
        throw LatentModelConfigurationError("\(key): \(missing.stringValue) is missing")
    } catch let DecodingError.typeMismatch(_, context) {
        throw LatentModelConfigurationError("\(key): \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
    } catch {
        throw LatentModelConfigurationError("\(key): \(error)")
    }
}

extension AutoencoderConfiguration {
    /// The `params` of a reference autoencoder stage: `embed_dim` and `ddconfig`.
    init(referenceParameters params: Node, _ key: String) throws {
        guard let ddconfig = params["ddconfig"] else { throw LatentModelConfigurationError("\(key): ddconfig is missing") }
        guard let embedDim = params["embed_dim"]?.int else { throw LatentModelConfigurationError("\(key): embed_dim is missing") }
        struct DDConfig: Decodable {
            let ch: Int, ch_mult: [Int], num_res_blocks: Int, attn_resolutions: [Int], resolution: Int
            let in_channels: Int, out_ch: Int, z_channels: Int, double_z: Bool?
        }
        let d = try decodeYAML(DDConfig.self, ddconfig, key + ".ddconfig")
        self.init(channels: d.ch, channelMult: d.ch_mult, numResBlocks: d.num_res_blocks, attnResolutions: d.attn_resolutions,
                  resolution: d.resolution, inChannels: d.in_channels, outChannels: d.out_ch, zChannels: d.z_channels,
                  doubleZ: d.double_z ?? true, embedDim: embedDim)
    }

    /// Reads the reference's CFW configuration (`configs/autoencoder/autoencoder_kl_64x64x4_resi.yaml`:
    /// `model.target` `AutoencoderKLResi`, `model.params.{embed_dim, ddconfig}`); its autoencoder must
    /// have the 4 levels CFW needs.
    public init(cfwYAML text: String) throws {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw LatentModelConfigurationError("not a readable YAML file: \(error)")
        }
        guard let model = root?["model"], let params = model["params"] else {
            throw LatentModelConfigurationError("no model.params in the YAML (not a CFW autoencoder configuration)")
        }
        let target = model["target"]?.string ?? ""
        guard target.hasSuffix("AutoencoderKLResi") else {
            throw LatentModelConfigurationError("model.target is \(target.isEmpty ? "missing" : target), expected …AutoencoderKLResi")
        }
        try self.init(referenceParameters: params, "model.params")
        try validate(fusion: true)
    }

    /// Reads a CFW configuration file (`init(cfwYAML:)`).
    public init(contentsOfCFWYAMLFile path: String) throws {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LatentModelConfigurationError("cannot read the CFW configuration \(path): \(error.localizedDescription)")
        }
        do { try self.init(cfwYAML: text) } catch let error as LatentModelConfigurationError {
            throw LatentModelConfigurationError("\(path): \(error.message)")
        }
    }
}
