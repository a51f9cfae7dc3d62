import ArgumentParser
import DiffusionSR
import Foundation

extension DType: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "f32", "float32": self = .float32
        case "f16", "float16": self = .float16
        case "bf16", "bfloat16": self = .bfloat16
        default: return nil
        }
    }
}

/// `diffsr convert`: a reference checkpoint (SR3 or StableSR) to this project's safetensors.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a reference checkpoint to safetensors with its configuration embedded, or rewrite a safetensors model.",
        discussion: "SR3: a *_gen.pth with its JSON config. StableSR: the released Lightning .ckpt with its YAML "
            + "(--model-config) and the CFW .ckpt with its YAML (--cfw-model, --cfw-config), into one file holding the "
            + "U-Net, the time-aware encoder, the autoencoder with the CFW fusion layers and the empty prompt's text "
            + "context (computed here from the checkpoint's text encoder, which is not stored); only the checkpoints' "
            + "state_dict is read, never their optimizer states or pickled code. A safetensors input is rewritten "
            + "(e.g. to another dtype). The --default-* options record the settings `upscale` and `benchmark` use "
            + "for this model when no flag is given (a flag still wins); --clear-defaults removes recorded ones "
            + "first. `inspect` shows them.")

    @Argument(help: "The PyTorch checkpoint (.pth/.ckpt) or a safetensors file to rewrite.")
    var input: String

    @Option(name: .shortAndLong, help: "Output .safetensors file (written atomically).")
    var output: String

    @Option(help: "Reference config: SR3's JSON (for .pth) or StableSR's YAML (for its .ckpt).")
    var modelConfig: String?

    @Option(help: "StableSR: the CFW checkpoint (vqgan_cfw_00011.ckpt).")
    var cfwModel: String?

    @Option(help: "StableSR: the CFW checkpoint's YAML.")
    var cfwConfig: String?

    @Option(help: "StableSR: record the default CFW weight w in [0, 1].")
    var defaultDecW: Double?

    @Option(help: "StableSR: record the model's input size (its training resolution: 512, or 768 for the 768v model).")
    var defaultInputSize: Int?

    @Option(help: "Upscaling factor, when the config does not give it.")
    var scale: Int?

    @Option(help: "Stored dtype: f32, f16 or bf16 (default: f32 for SR3, f16 for StableSR).")
    var dtype: DType?

    @Option(help: "Record the default sampler: ddpm, ddim or dpm-solver++.")
    var defaultSampler: SR3Upscaler.SamplerKind?

    @Option(help: "Record the default number of sampling steps.")
    var defaultSteps: Int?

    @Option(help: "Record the default color correction: none, adain or wavelet.")
    var defaultColorFix: ColorCorrection?

    @Option(help: "Record the default test-time augmentation level in [0, 1] (SR3+ models only).")
    var defaultAugLevel: Double?

    @Flag(help: "Remove the recorded sampling defaults and augmentation level before applying the --default-* options.")
    var clearDefaults = false

    func validate() throws {
        if !output.lowercased().hasSuffix(".safetensors") { throw ValidationError("--output must end in .safetensors") }
        if let defaultSteps, defaultSteps < 1 { throw ValidationError("--default-steps must be at least 1, got \(defaultSteps)") }
        if let defaultAugLevel, !(0...1).contains(defaultAugLevel) {
            throw ValidationError("--default-aug-level must be in [0, 1], got \(defaultAugLevel)")
        }
    }

    func run() throws {
        try runReportingErrors {
            switch try LoadedModel.open(input, configuration: modelConfig, cfwCheckpoint: cfwModel, cfwConfiguration: cfwConfig, scale: scale) {
            case .sr3(var model):
                if defaultDecW != nil || defaultInputSize != nil { throw CommandError("--default-dec-w and --default-input-size are for StableSR models") }
                try recordDefaults(in: &model.description)
                let dtype = self.dtype ?? .float32
                try model.write(to: output, dtype: dtype)
                printError("\(input) → \(output) (\(model.network.parameterCount) parameters, \(dtype.rawValue), ×\(model.description.scale))")
            case .stablesr(let model):
                if clearDefaults { model.defaults = StableSRSettings.Recorded() }
                if defaultAugLevel != nil { throw CommandError("--default-aug-level is for SR3+ models") }
                if let defaultSteps, defaultSteps > 1000 { throw CommandError("--default-steps \(defaultSteps) exceeds the 1000 training steps") }
                if let defaultDecW, !(0...1).contains(defaultDecW) { throw CommandError("--default-dec-w must be in [0, 1]") }
                if let defaultSampler { model.defaults.sampler = defaultSampler }
                if let defaultSteps { model.defaults.steps = defaultSteps }
                if let defaultColorFix { model.defaults.colorCorrection = defaultColorFix }
                if let defaultDecW { model.defaults.decoderWeight = defaultDecW }
                if let defaultInputSize {
                    guard defaultInputSize >= 8, defaultInputSize % 8 == 0 else { throw CommandError("--default-input-size must be a positive multiple of 8") }
                    model.defaults.inputSize = defaultInputSize
                }
                let dtype = self.dtype ?? .float16
                let shared = try model.write(to: output, dtype: dtype)
                let parameters = [model.unet.parameterCount, model.encoder.parameterCount, model.firstStage.parameterCount, model.cfw.parameterCount]
                printError("\(input) → \(output) (StableSR: U-Net \(parameters[0]), encoder \(parameters[1]), autoencoder \(parameters[2]), CFW \(parameters[3]) parameters\(shared ? ", CFW sharing the first stage's weights" : ""), \(dtype.rawValue))")
            }
        }
    }

    /// Applies --clear-defaults and the --default-* options to a description, checked against it.
    func recordDefaults(in description: inout SR3ModelDescription) throws {
        if clearDefaults { (description.sampling, description.augmentationLevel) = (nil, nil) }
        if let defaultSteps {
            let total = NoiseSchedule(description.betaSchedule).stepCount
            guard defaultSteps <= total else { throw CommandError("--default-steps \(defaultSteps) exceeds the model's \(total) training steps") }
        }
        if defaultAugLevel != nil, !description.unet.conditionAugmentation {
            throw CommandError("--default-aug-level: this model was trained without condition augmentation")
        }
        let given = SamplingDefaults(sampler: defaultSampler, steps: defaultSteps, colorCorrection: defaultColorFix)
        if !given.isEmpty { description.sampling = given.filled(from: description.sampling ?? SamplingDefaults()) }
        if let defaultAugLevel { description.augmentationLevel = defaultAugLevel }
    }
}
