import Foundation
import SRCheckpoint
import SRModels
import SRNN
import SRTensor

/// StableSR's diffusion prior as trained here (stage 0): a latent U-Net and the learned constant
/// context its cross-attention attends to. Keys: `model.diffusion_model.*` (the released
/// checkpoints' prefix for the U-Net) and `context` (`[1, L, context_dim]`).
public final class LatentPrior: Module, @unchecked Sendable {
    public let unet: StableSRUNet
    public let context: Parameter
    override public var parameterKeys: [String: String] { ["unet": "model.diffusion_model"] }

    /// The U-Net with PyTorch's initialization, the context uniform in ±√3 (unit variance, like a
    /// token embedding).
    public init<G: RandomNumberGenerator>(configuration: LatentUNetConfiguration, contextLength: Int, using generator: inout G) throws {
        unet = try StableSRUNet(configuration: configuration, using: &generator)
        context = Parameter(Initializer.uniform([1, contextLength, configuration.contextDim], bound: Float(3).squareRoot(), using: &generator))
    }

    /// The prediction (ε or v) for noisy latents `x` at `timesteps` (`structure`: the time-aware
    /// encoder's features when the U-Net has SPADE).
    public func callAsFunction(_ x: Tensor, timesteps: Tensor, structure: [Int: Tensor] = [:]) -> Tensor {
        unet(x, timesteps: timesteps, context: context.value, structure: structure)
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

    /// Writes a prior's weights (`LatentPrior` keys) with this description.
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
