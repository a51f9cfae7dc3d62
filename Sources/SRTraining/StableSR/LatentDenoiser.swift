import Foundation
import SRCheckpoint
import SRModels
import SRNN
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

    /// Reads a prior file: its description and weights.
    public static func read(contentsOfFile path: String) throws -> (LatentPriorDescription, [String: Tensor]) {
        let file = try SafeTensorsFile(contentsOfFile: path)
        guard let json = file.metadata[metadataKey],
              let description = try? JSONDecoder().decode(LatentPriorDescription.self, from: Data(json.utf8)) else {
            throw TrainingError.data("\(path): not a latent prior written by stage prior (no readable \(metadataKey) metadata)")
        }
        return (description, try file.tensors())
    }
}
