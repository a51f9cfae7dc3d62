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

/// `diffsr convert`: a reference SR3 checkpoint to this project's safetensors.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a reference SR3 *_gen.pth (with its JSON config) to safetensors with the config embedded, or rewrite a safetensors model.",
        discussion: "A safetensors input is rewritten (e.g. to another dtype). The --default-* options record the "
            + "settings `upscale` and `benchmark` use for this model when no flag is given (a flag still wins); "
            + "--clear-defaults removes recorded ones first. `inspect` shows them.")

    @Argument(help: "The PyTorch checkpoint (.pth/.ckpt) or a safetensors file to rewrite.")
    var input: String

    @Option(name: .shortAndLong, help: "Output .safetensors file (written atomically).")
    var output: String

    @Option(help: "Reference JSON config (needed for .pth).")
    var modelConfig: String?

    @Option(help: "Upscaling factor, when the config does not give it.")
    var scale: Int?

    @Option(help: "Stored dtype: f32, f16 or bf16.")
    var dtype: DType = .float32

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
            var model = try SR3ModelFile(contentsOfFile: input, configurationPath: modelConfig, scale: scale)
            try recordDefaults(in: &model.description)
            try model.write(to: output, dtype: dtype)
            printError("\(input) → \(output) (\(model.network.parameterCount) parameters, \(dtype.rawValue), ×\(model.description.scale))")
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
