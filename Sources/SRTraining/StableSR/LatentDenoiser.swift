import Foundation
import SRCheckpoint
import SRModels
import SRNN
import SRPipelines
import SRTensor

/// The trainable networks of a StableSR model trained here: the latent U-Net, the learned constant
/// context its cross-attention attends to, and from stage 1 on the time-aware encoder whose
/// features drive the U-Net's SPADE layers. Keys: the released checkpoints' prefixes,
/// `model.diffusion_model.*` and `structcond_stage_model.*`, and `context` (`[1, L, context_dim]`).
public final class LatentDenoiser: Module, @unchecked Sendable {
    public let unet: StableSRUNet
    public let encoder: TimeAwareEncoder?
    public let context: Parameter
    override public var parameterKeys: [String: String] { ["unet": "model.diffusion_model", "encoder": "structcond_stage_model"] }

    /// The networks with PyTorch's initialization; the context uniform in ±√3 (unit variance, like
    /// a token embedding).
    public init<G: RandomNumberGenerator>(configuration: LatentUNetConfiguration, encoder encoderConfiguration: TimeAwareEncoderConfiguration?,
                                          contextLength: Int, using generator: inout G) throws {
        unet = try StableSRUNet(configuration: configuration, using: &generator)
        encoder = try encoderConfiguration.map { try TimeAwareEncoder(configuration: $0, using: &generator) }
        context = Parameter(Initializer.uniform([1, contextLength, configuration.contextDim], bound: Float(3).squareRoot(), using: &generator))
    }

    /// The prediction (ε or v) for noisy latents `x` at `timesteps`; with the time-aware encoder,
    /// steered by the features of the LR latent `condition` at the same timesteps.
    public func callAsFunction(_ x: Tensor, timesteps: Tensor, condition: Tensor? = nil) -> Tensor {
        precondition((encoder == nil) == (condition == nil), "LatentDenoiser: a condition goes with a time-aware encoder")
        let structure = encoder.map { $0(condition!, timesteps: timesteps) } ?? [:]
        return unet(x, timesteps: timesteps, context: context.value, structure: structure)
    }
}

/// What a prior file records besides its tensors (JSON in the safetensors metadata).
public struct LatentPriorDescription: Codable, Sendable, Equatable {
    public var unet: LatentUNetConfiguration
    public var contextLength: Int
    public var autoencoder: TinyAutoencoderConfiguration
    public var parameterization: LatentParameterization
    public var linearStart: Double
    public var linearEnd: Double
    public var timesteps: Int
    public var latentScale: Double

    static let metadataKey = "diffsr.latent_prior"
    enum CodingKeys: String, CodingKey {
        case unet, contextLength = "context_length", autoencoder, parameterization, linearStart = "linear_start", linearEnd = "linear_end"
        case timesteps, latentScale = "latent_scale"
    }

    public init(_ c: StableSRTrainingConfiguration) {
        unet = c.unet
        contextLength = c.contextLength
        autoencoder = c.autoencoder.configuration
        parameterization = c.parameterization
        linearStart = c.linearStart
        linearEnd = c.linearEnd
        timesteps = c.timesteps
        latentScale = c.latentScale
    }

    /// Writes a prior's weights (`LatentDenoiser` keys, no encoder) with this description.
    public func write(_ weights: [String: Tensor], to path: String) throws {
        let json = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        try SafeTensorsFile.write(weights, metadata: [Self.metadataKey: json], to: path)
    }

    /// The prior inside a StableSR model trained here: its U-Net without the SPADE layers (frozen in
    /// stage 1, so they are the prior's weights, as stored: fp16 in the shipped file) and its context.
    /// Lets stage 1 be retrained, or fine-tuned on other photos, from a shipped model alone.
    init(model: StableSRModel, path: String) throws {
        guard case .tiny(let tiny) = model.configuration.autoencoder else {
            throw TrainingError.data("\(path): a StableSR model on the SD autoencoder; only models trained here (TAEF2) hold a prior to start from")
        }
        let c = model.configuration
        unet = c.unet
        unet.sembChannels = 0
        contextLength = model.context.shape[1]
        autoencoder = tiny
        parameterization = c.parameterization
        (linearStart, linearEnd, timesteps, latentScale) = (c.linearStart, c.linearEnd, c.timesteps, c.scaleFactor)
    }

    /// Reads a prior file, or the prior of a StableSR model file trained here (`init(model:path:)`):
    /// its description and weights (`LatentDenoiser` keys).
    public static func read(contentsOfFile path: String) throws -> (LatentPriorDescription, [String: Tensor]) {
        let file = try SafeTensorsFile(contentsOfFile: path)
        if file.metadata[ModelFamily.metadataKey] == ModelFamily.stablesr.rawValue {
            let model = try StableSRModel(contentsOfFile: path)
            var weights = ["context": model.context]
            for (name, parameter) in model.unet.namedParameters() where !name.contains(".spade.") {
                weights["model.diffusion_model." + name] = parameter.value
            }
            return (try LatentPriorDescription(model: model, path: path), weights)
        }
        guard let json = file.metadata[metadataKey],
              let description = try? JSONDecoder().decode(LatentPriorDescription.self, from: Data(json.utf8)) else {
            throw TrainingError.data("\(path): not a latent prior written by stage prior (no readable \(metadataKey) metadata)")
        }
        return (description, try file.tensors())
    }
}
