import Foundation
import SRCheckpoint
import SRModels
import SRNN
import SRTensor

/// A StableSR model ready to sample: the dual-condition U-Net, the time-aware encoder, the first
/// stage (the autoencoder whose encoder makes the LR latent: SD's KL autoencoder in the released
/// models, TAEF2 in the ones trained here), the CFW autoencoder (its encoder's features and the
/// decoder with fusion layers), and the constant text context of the empty prompt (a learned
/// constant in the models trained here).
///
/// Loaded from the reference's released layout (a Lightning `.ckpt` with its YAML, the CFW `.ckpt`
/// with its YAML) or from this project's converted safetensors (`write(to:)`).
public final class StableSRModel: @unchecked Sendable {
    public let configuration: StableSRConfiguration
    public let cfwConfiguration: LatentAutoencoderConfiguration
    public let unet: StableSRUNet
    public let encoder: TimeAwareEncoder
    public let firstStage: any LatentAutoencoder
    /// The CFW autoencoder; its encoder, quant convs and decoder are the first stage's when the two
    /// checkpoints hold the same weights (the released files do: both are frozen SD 2.1 weights).
    public let cfw: any LatentAutoencoder
    /// `[1, L, context_dim]`: the empty prompt's text encoding.
    public let context: Tensor
    /// Sampling settings recorded for this model (`StableSRSettings` starts from them).
    public var defaults: StableSRSettings.Recorded

    /// What goes wrong when loading, worded for the user.
    public struct LoadError: Error, CustomStringConvertible {
        public var message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// A model from networks already built (e.g. with random weights, for benchmarks).
    public init(configuration: StableSRConfiguration, cfwConfiguration: LatentAutoencoderConfiguration, unet: StableSRUNet,
         encoder: TimeAwareEncoder, firstStage: any LatentAutoencoder, cfw: any LatentAutoencoder, context: Tensor,
         defaults: StableSRSettings.Recorded) {
        self.configuration = configuration
        self.cfwConfiguration = cfwConfiguration
        self.unet = unet
        self.encoder = encoder
        self.firstStage = firstStage
        self.cfw = cfw
        self.context = context
        self.defaults = defaults
    }

    /// Whether the CFW autoencoder's encoder holds the first stage's tensors (shared, not copied):
    /// its features are then those of the first stage's encoding, and sampling encodes once.
    public private(set) lazy var cfwEncoderIsFirstStages: Bool = {
        let first = firstStage.parameterDictionary()
        let encoder = cfw.namedParameters().filter { $0.path.hasPrefix("encoder.") || $0.path.hasPrefix("quant_conv.") }
        return !encoder.isEmpty && encoder.allSatisfy { first[$0.path]?.value.sharesStorage(with: $0.parameter.value) == true }
    }()

    /// What an upscale holds beyond the weights, per pixel (measured on first use, about a second).
    public private(set) lazy var memoryProfile: StableSRMemoryProfile = StableSRMemoryProfile.measure(self)

    /// The state-dict prefixes of the released checkpoint.
    static let unetPrefix = "model.diffusion_model.", encoderPrefix = "structcond_stage_model.",
               firstStagePrefix = "first_stage_model.", textPrefix = "cond_stage_model.model.", cfwPrefix = "cfw."

    /// Networks built without drawing random weights, to be loaded.
    static func networks(_ c: StableSRConfiguration, _ cfwConfiguration: LatentAutoencoderConfiguration) throws
        -> (StableSRUNet, TimeAwareEncoder, any LatentAutoencoder, any LatentAutoencoder) {
        var generator = WeightsToBeLoaded()
        return (try StableSRUNet(configuration: c.unet, using: &generator), try TimeAwareEncoder(configuration: c.encoder, using: &generator),
                try c.autoencoder.make(fusion: false, using: &generator), try cfwConfiguration.make(fusion: true, using: &generator))
    }

    /// Loads `module`'s parameters from `tensors` (this project's layout), naming the file and part;
    /// `strict: false` for a part of the parameters (shapes are still checked).
    static func load(_ module: Module, _ tensors: [String: Tensor], part: String, path: String, strict: Bool = true) throws {
        try load(module.parameterDictionary(), tensors, part: part, path: path, strict: strict)
    }

    /// `load(_:_:part:path:strict:)` on a module's collected parameters (`parameterDictionary()`), for
    /// loaders that set a module a piece at a time.
    static func load(_ parameters: [String: Parameter], _ tensors: [String: Tensor], part: String, path: String, strict: Bool = true) throws {
        do { try Module.update(parameters, with: tensors, strict: strict) } catch let error as ParameterUpdateError {
            throw LoadError("\(path): the \(part) does not match its configuration: \(error)")
        }
    }

    /// Checks a file's keys under `prefix` against `module` before anything is read: missing,
    /// unexpected and mismatched keys reported together. `shapes` are in this project's layout.
    /// - Returns: the parameter names found (without the prefix) and the module's parameters by name.
    static func checkKeys(of module: Module, shapes: [String: [Int]], prefix: String, part: String, path: String) throws
        -> (names: Set<String>, parameters: [String: Parameter]) {
        let own = module.parameterDictionary()
        var available: [String: [Int]] = [:]
        for (key, shape) in shapes where key.hasPrefix(prefix) { available[String(key.dropFirst(prefix.count))] = shape }
        var problems = ParameterUpdateError(missing: own.keys.filter { available[$0] == nil }.sorted(),
                                            unexpected: available.keys.filter { own[$0] == nil }.sorted(), mismatched: [])
        for (name, shape) in available.sorted(by: { $0.key < $1.key }) {
            if let parameter = own[name], parameter.shape != shape {
                problems.mismatched.append(.init(key: name, expected: parameter.shape, actual: shape))
            }
        }
        guard problems.isEmpty else {
            throw LoadError("\(path): the \(part)\(prefix.isEmpty ? "" : " (\(prefix)*)") does not match its configuration: \(problems)")
        }
        return (Set(available.keys), own)
    }

    /// Loads `module` from the tensors under `prefix` of a checkpoint (PyTorch layout, `shapes` as the
    /// pickle gives them), a block at a time (keys grouped by their first two path components), so
    /// the peak memory is the model plus one block. Every key is checked first (`checkKeys`).
    static func loadStreaming(_ module: Module, from shapes: [String: [Int]], prefix: String, part: String, path: String,
                              read: (String) throws -> [String: Tensor]) throws {
        let (available, parameters) = try checkKeys(of: module, shapes: shapes.mapValues(PyTorchLayout.importedShape), prefix: prefix,
                                                    part: part, path: path)
        let blocks = Set(available.map { name -> String in
            let parts = name.split(separator: ".")
            return parts.count > 2 ? parts.prefix(2).joined(separator: ".") + "." : name
        })
        for block in blocks.sorted() {
            try load(parameters, PyTorchLayout.importedStateDictionary(try read(prefix + block), prefix: prefix), part: part, path: path,
                     strict: false)
        }
    }

    /// Loads the reference's released files: the StableSR Lightning checkpoint (`state_dict` only; its
    /// optimizer states are never read) with its YAML, and the CFW checkpoint with its YAML. The
    /// empty prompt's context is computed from the checkpoint's own OpenCLIP text tower.
    public convenience init(checkpoint: String, configuration configurationPath: String, cfwCheckpoint: String,
                            cfwConfiguration cfwConfigurationPath: String) throws {
        let c = try StableSRConfiguration(contentsOfYAMLFile: configurationPath)
        let cfwConfiguration = try AutoencoderConfiguration(contentsOfCFWYAMLFile: cfwConfigurationPath)
        guard case .kl(let first) = c.autoencoder, cfwConfiguration.embedDim == first.embedDim, cfwConfiguration.zChannels == first.zChannels,
              cfwConfiguration.downsamplingFactor == first.downsamplingFactor else {
            throw LoadError("\(cfwConfigurationPath): the CFW autoencoder (embed_dim \(cfwConfiguration.embedDim), factor \(cfwConfiguration.downsamplingFactor)) does not fit the model's first stage (latent channels \(c.autoencoder.latentChannels), factor \(c.autoencoder.downsamplingFactor))")
        }
        let (unet, encoder, firstStage, cfw) = try Self.networks(c, .kl(cfwConfiguration))
        let state = try PyTorchStateDictionary(contentsOfFile: checkpoint)
        guard state.shapes.keys.contains(where: { $0.hasPrefix(Self.unetPrefix) }) else {
            throw LoadError("\(checkpoint): no \(Self.unetPrefix)* tensors: not a StableSR (latent diffusion) checkpoint")
        }
        for (module, prefix, part) in [(unet as Module, Self.unetPrefix, "U-Net"), (encoder, Self.encoderPrefix, "time-aware encoder"),
                                       (firstStage, Self.firstStagePrefix, "first stage")] {
            try Self.loadStreaming(module, from: state.shapes, prefix: prefix, part: part, path: checkpoint) { try state.tensors(withPrefix: $0) }
        }
        let context: Tensor
        do {
            let text = try OpenCLIPTextEncoder(stateDictionary: try state.tensors(withPrefix: Self.textPrefix), prefix: Self.textPrefix)
            guard text.configuration.width == c.unet.contextDim else {
                throw LoadError("\(checkpoint): the text encoder's width \(text.configuration.width) is not the U-Net's context_dim \(c.unet.contextDim)")
            }
            context = text.emptyPromptContext()
        } catch let error as ParameterUpdateError {
            throw LoadError("\(checkpoint): the text encoder (\(Self.textPrefix)*) is incomplete: \(error)")
        } catch let error as LatentModelConfigurationError {
            throw LoadError("\(checkpoint): \(error.message)")
        }
        let cfwState = try PyTorchStateDictionary(contentsOfFile: cfwCheckpoint)
        guard cfwState.shapes.keys.contains(where: { $0.hasPrefix("decoder.fusion_layer_") }) else {
            throw LoadError("\(cfwCheckpoint): no decoder.fusion_layer_* tensors: not a CFW (AutoencoderKLResi) checkpoint")
        }
        // The released file also holds the loss's networks (LPIPS, discriminator): not part of inference.
        try Self.loadStreaming(cfw, from: cfwState.shapes.filter { !$0.key.hasPrefix("loss.") }, prefix: "", part: "CFW autoencoder",
                               path: cfwCheckpoint) { try cfwState.tensors(withPrefix: $0) }
        self.init(configuration: c, cfwConfiguration: .kl(cfwConfiguration), unet: unet, encoder: encoder, firstStage: firstStage, cfw: cfw,
                  context: context, defaults: StableSRSettings.Recorded())
        shareFirstStageWeights()
    }
}
