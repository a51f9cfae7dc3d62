import Foundation
import SRCheckpoint
import SRModels
import SRNN
import SRTensor

/// What a converted StableSR file records besides its tensors (JSON in the metadata).
struct StableSRFileDescription: Codable {
    var configuration: StableSRConfiguration
    var cfw: LatentAutoencoderConfiguration
    var defaults: StableSRSettings.Recorded
    /// The CFW autoencoder's encoder, quant convs and plain decoder are the first stage's (only its
    /// fusion layers are stored under `cfw.`).
    var cfwSharesFirstStage: Bool

    static let metadataKey = "diffsr.stablesr"
    enum CodingKeys: String, CodingKey { case configuration, cfw, defaults, cfwSharesFirstStage = "cfw_shares_first_stage" }
}

extension StableSRModel {
    /// Whether the CFW autoencoder's non-fusion weights equal the first stage's, value for value.
    public var cfwSharesFirstStage: Bool {
        let first = firstStage.parameterDictionary()
        for (path, parameter) in cfw.namedParameters() where !path.hasPrefix("decoder.fusion_layer_") {
            guard let other = first[path], other.shape == parameter.shape else { return false }
            if other.value.scalars != parameter.value.scalars { return false }
        }
        return true
    }

    /// Points the CFW autoencoder's non-fusion parameters at the first stage's tensors (no copy),
    /// when they hold the same values.
    func shareFirstStageWeights() {
        guard cfwSharesFirstStage else { return }
        let first = firstStage.parameterDictionary()
        let shared = cfw.namedParameters().filter { !$0.path.hasPrefix("decoder.fusion_layer_") }
        try? cfw.update(parameters: Dictionary(uniqueKeysWithValues: shared.map { ($0.path, first[$0.path]!.value) }), strict: false)
    }

    /// The file's tensors in this project's layout: `model.diffusion_model.*`, `structcond_stage_model.*`,
    /// `first_stage_model.*`, `cfw.*` (all of it, or only the fusion layers when shared) and `context`.
    func fileTensors(sharing: Bool) -> [String: Tensor] {
        var tensors: [String: Tensor] = ["context": context]
        for (module, prefix) in [(unet as Module, Self.unetPrefix), (encoder, Self.encoderPrefix), (firstStage, Self.firstStagePrefix)] {
            for (path, parameter) in module.namedParameters() { tensors[prefix + path] = parameter.value }
        }
        for (path, parameter) in cfw.namedParameters() where !sharing || path.hasPrefix("decoder.fusion_layer_") {
            tensors[Self.cfwPrefix + path] = parameter.value
        }
        return tensors
    }

    /// Writes the model as one safetensors file (atomically): the networks, the CFW fusion layers,
    /// the text context, the configurations and the recorded sampling defaults. The text encoder
    /// itself is not needed any more and is left out.
    /// - Returns: whether the CFW autoencoder shares the first stage's weights (only its fusion
    ///   layers were written).
    @discardableResult
    public func write(to path: String, dtype: DType = .float16) throws -> Bool {
        let sharing = cfwSharesFirstStage
        let description = StableSRFileDescription(configuration: configuration, cfw: cfwConfiguration, defaults: defaults,
                                                  cfwSharesFirstStage: sharing)
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try SafeTensorsFile.write(fileTensors(sharing: sharing), metadata: [ModelFamily.metadataKey: ModelFamily.stablesr.rawValue,
                                                                          StableSRFileDescription.metadataKey: json],
                                  dtype: dtype, to: path)
        return sharing
    }

    /// The sampling settings recorded in a converted StableSR file, read from its header alone (nil
    /// when the file is not one).
    public static func recordedDefaults(ofFile path: String) -> StableSRSettings.Recorded? {
        guard let json = try? SafeTensorsFile(contentsOfFile: path).metadata[StableSRFileDescription.metadataKey] else { return nil }
        return try? JSONDecoder().decode(StableSRFileDescription.self, from: Data(json.utf8)).defaults
    }

    /// Opens a converted StableSR file (`write(to:)`).
    public convenience init(contentsOfFile path: String) throws {
        let file = try SafeTensorsFile(contentsOfFile: path)
        guard let json = file.metadata[StableSRFileDescription.metadataKey] else {
            throw LoadError("\(path): no '\(StableSRFileDescription.metadataKey)' metadata: not a StableSR file converted by diffsr")
        }
        let description: StableSRFileDescription
        do { description = try JSONDecoder().decode(StableSRFileDescription.self, from: Data(json.utf8)) } catch {
            throw LoadError("\(path): unreadable StableSR description in the metadata: \(error)")
        }
        try description.configuration.validate()
        let (unet, encoder, firstStage, cfw) = try Self.networks(description.configuration, description.cfw)
        for (module, prefix, part) in [(unet as Module, Self.unetPrefix, "U-Net"), (encoder, Self.encoderPrefix, "time-aware encoder"),
                                       (firstStage, Self.firstStagePrefix, "first stage")] {
            try Self.loadSafeTensors(module, file: file, prefix: prefix, part: part, path: path)
        }
        if description.cfwSharesFirstStage {
            let first = firstStage.parameterDictionary()
            var tensors: [String: Tensor] = [:]
            for (name, _) in cfw.namedParameters() {
                if name.hasPrefix("decoder.fusion_layer_") {
                    tensors[name] = try file.tensor(Self.cfwPrefix + name)
                } else if let shared = first[name] {
                    tensors[name] = shared.value
                }
            }
            try Self.load(cfw, tensors, part: "CFW autoencoder", path: path)
        } else {
            try Self.loadSafeTensors(cfw, file: file, prefix: Self.cfwPrefix, part: "CFW autoencoder", path: path)
        }
        let context = try file.tensor("context")
        guard context.rank == 3, context.shape[0] == 1, context.shape[2] == description.configuration.unet.contextDim else {
            throw LoadError("\(path): the text context \(context.shape) does not fit the U-Net's context_dim \(description.configuration.unet.contextDim)")
        }
        self.init(configuration: description.configuration, cfwConfiguration: description.cfw, unet: unet, encoder: encoder,
                  firstStage: firstStage, cfw: cfw, context: context, defaults: description.defaults)
    }

    /// Loads a module from the keys under `prefix` of a safetensors file, a tensor at a time, after
    /// checking every key and shape (`checkKeys`).
    static func loadSafeTensors(_ module: Module, file: SafeTensorsFile, prefix: String, part: String, path: String) throws {
        let (available, parameters) = try checkKeys(of: module, shapes: file.entries.mapValues(\.shape), prefix: prefix, part: part, path: path)
        for name in available.sorted() {
            try load(parameters, [name: try file.tensor(prefix + name)], part: part, path: path, strict: false)
        }
    }
}
