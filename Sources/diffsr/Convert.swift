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
        abstract: "Convert a reference SR3 *_gen.pth (with its JSON config) to safetensors with the config embedded.")

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

    func validate() throws {
        if !output.lowercased().hasSuffix(".safetensors") { throw ValidationError("--output must end in .safetensors") }
    }

    func run() throws {
        try runReportingErrors {
            let model = try SR3ModelFile(contentsOfFile: input, configurationPath: modelConfig, scale: scale)
            try model.write(to: output, dtype: dtype)
            printError("\(input) → \(output) (\(model.network.parameterCount) parameters, \(dtype.rawValue), ×\(model.description.scale))")
        }
    }
}
