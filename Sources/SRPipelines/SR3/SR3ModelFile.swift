import Foundation
import SRDiffusion
import SRCheckpoint
import SRModels
import SRNN
import SRTensor

/// An SR3 network with its description, loaded from this project's safetensors (description in the
/// metadata) or from a reference `*_gen.pth` with its JSON config.
public struct SR3ModelFile: @unchecked Sendable {
    public var description: SR3ModelDescription
    public var network: SR3UNet

    /// Errors a user can act on.
    public enum LoadError: Error, CustomStringConvertible {
        case needsConfiguration(path: String)
        case missingDescription(path: String)
        case unsupportedFile(path: String)

        public var description: String {
            switch self {
            case .needsConfiguration(let path): return "\(path): a PyTorch checkpoint needs its JSON config (--model-config)"
            case .missingDescription(let path): return "\(path): no '\(SR3ModelDescription.metadataKey)' metadata; pass --model-config with the reference JSON config"
            case .unsupportedFile(let path): return "\(path): not a .safetensors, .pth or .ckpt file"
            }
        }
    }

    /// Loads a model. `.safetensors` carry their description (a training checkpoint of `diffsr train`
    /// gives its EMA weights); `.pth`/`.ckpt` need `configurationPath` (a reference JSON config); a
    /// given configuration overrides safetensors metadata.
    public init(contentsOfFile path: String, configurationPath: String? = nil, scale: Int? = nil) throws {
        let lower = path.lowercased()
        var generator = SystemRandomNumberGenerator()
        if lower.hasSuffix(".safetensors") {
            let file = try SafeTensorsFile(contentsOfFile: path)
            var description: SR3ModelDescription
            if let configurationPath {
                description = try SR3ModelDescription(referenceConfigAt: configurationPath, scale: scale)
            } else if let json = file.metadata[SR3ModelDescription.metadataKey] {
                description = try SR3ModelDescription(json: json)
            } else {
                throw LoadError.missingDescription(path: path)
            }
            if let scale { description.scale = scale }
            network = try SR3UNet(configuration: description.unet, using: &generator)
            var tensors = try file.tensors()
            if file.metadata["diffsr.step"] != nil {
                // A training checkpoint: use its EMA weights.
                tensors = Dictionary(uniqueKeysWithValues: tensors.compactMap { key, value in
                    key.hasPrefix("ema.") ? (String(key.dropFirst(4)), value) : nil
                })
            }
            try network.update(parameters: tensors)
            self.description = description
        } else if lower.hasSuffix(".pth") || lower.hasSuffix(".ckpt") || lower.hasSuffix(".pt") {
            guard let configurationPath else { throw LoadError.needsConfiguration(path: path) }
            description = try SR3ModelDescription(referenceConfigAt: configurationPath, scale: scale)
            network = try SR3UNet(configuration: description.unet, using: &generator)
            try SR3Checkpoint.loadPyTorch(contentsOfFile: path, into: network)
        } else {
            throw LoadError.unsupportedFile(path: path)
        }
    }

    /// Writes the model as safetensors with its description in the metadata (atomically).
    public func write(to path: String, dtype: DType = .float32) throws {
        let tensors = Dictionary(uniqueKeysWithValues: network.namedParameters().map { ($0.path, $0.parameter.value) })
        try SafeTensorsFile.write(tensors, metadata: [SR3ModelDescription.metadataKey: try description.encodedJSON()],
                                  dtype: dtype, to: path)
    }
}

extension SR3ModelFile {
    /// A model from a description and weights keyed by parameter path.
    public init(description: SR3ModelDescription, weights: [String: Tensor]) throws {
        var generator = SystemRandomNumberGenerator()
        self.description = description
        network = try SR3UNet(configuration: description.unet, using: &generator)
        try network.update(parameters: weights)
    }
}
