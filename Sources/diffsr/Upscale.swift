import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr upscale`: super-resolve images with an SR3 or StableSR model.
struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upscale images with an SR3 or StableSR model.",
        discussion: """
            INPUT may be files or folders (PNG/JPEG). With one input file, --output is the output file;
            otherwise it is a folder (created if missing) receiving <stem>.png per input. Outputs are
            written atomically; Ctrl-C leaves no partial file. --rng torch draws every noise tensor in
            the reference's order, so a seed reproduces the reference implementation's result.
            StableSR: a converted .safetensors (diffsr convert), or the released SR.ckpt with
            --model-config SR.yaml --cfw-model CFW.ckpt --cfw-config CFW.yaml; defaults as the
            reference README (200 DDPM steps, --dec-w 0.5, adain, tile 512 / overlap 256 output
            pixels, start from the noised LR latent).
            """)

    @Argument(help: "Input images or folders.")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Output file (one input) or folder.")
    var output: String

    @Option(help: "Model: default (the shipped SR3 model, else the Regression one), a shipped model's name (see Models/) or family (sr3, sr3plus, regression: its ×4 model), a .safetensors file of this project, or a reference *_gen.pth with --model-config.")
    var model: String = "default"

    @Option(help: "The model's reference config: the JSON config of an SR3 *_gen.pth, or StableSR's YAML (configs/stableSRNew/v2-finetune_text_T_512.yaml) for its .ckpt.")
    var modelConfig: String?

    @OptionGroup var stableSR: StableSROptions

    @Option(help: "Upscaling factor (default: the model's).")
    var scale: Int?

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Flag(help: "Also write <output stem>_vs_bicubic.png: the input upsampled by Pillow bicubic beside the result.")
    var sideBySide = false

    @Option(help: "Images of the same size upscaled together (one network call per step for the batch; image i keeps seed + i, so results do not depend on the batch size).")
    var batch: Int = 1

    @Option(help: "Noise order: default (NHWC) or torch (the reference's NCHW stream).")
    var rng: RandomOrder = .torch

    @OptionGroup var compute: ComputeOptions

    enum RandomOrder: String, ExpressibleByArgument, CaseIterable { case `default`, torch }

    func validate() throws {
        if let scale, scale < 1 { throw ValidationError("--scale must be at least 1, got \(scale)") }
        if batch < 1 { throw ValidationError("--batch must be at least 1, got \(batch)") }
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            guard let modelPath = ModelLocator.resolve(model) else {
                let names = ModelLocator.available()
                throw CommandError("no model '\(model)': not a file, and not a shipped model"
                                   + (names.isEmpty ? " (none found in Models/)" : " (available: \(names.joined(separator: ", ")))"))
            }
            if model == "default" { printError("model: \(modelPath)") }
            let loaded = try LoadedModel.open(modelPath, configuration: modelConfig, cfwCheckpoint: stableSR.cfwModel,
                                              cfwConfiguration: stableSR.cfwConfig, scale: scale)
            let upscaler: any Upscaler
            switch loaded {
            case .sr3(let modelFile):
                if stableSR.memoryBudget != nil {
                    throw CommandError("--memory-budget applies to StableSR models; an SR3 model's memory is bounded with --tile")
                }
                var sr3 = try SR3Upscaler(model: modelFile, settings: sampling.settings(seed: seed, samples: 1))
                sr3.noiseOrder = rng == .torch ? .nchw : .natural
                upscaler = sr3
            case .stablesr(let model):
                guard rng == .torch else { throw CommandError("StableSR draws its noise in the reference's order only (--rng torch)") }
                upscaler = StableSRUpscaler(model: model, settings: try stableSR.settings(for: model, sampling: sampling, scale: scale))
            }
            printError("sampling: \(upscaler.summary)")
            let files = try imageFiles(in: inputs)
            let single = files.count == 1 && !isFolder(inputs[0])
            if !single { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
            if single, ImageFormat(path: output) == nil {
                throw CommandError("--output must end in .png, .jpg or .jpeg for a single input")
            }
            var index = 0
            while index < files.count {
                // A batch: up to --batch consecutive inputs of the first one's size.
                var group = [(index: index, file: files[index], image: try Image(contentsOfFile: files[index]))]
                while group.count < min(batch, upscaler.maximumBatch), index + group.count < files.count {
                    let next = index + group.count
                    let image = try Image(contentsOfFile: files[next])
                    guard image.width == group[0].image.width, image.height == group[0].image.height else { break }
                    group.append((next, files[next], image))
                }
                index += group.count
                let label = ImageSet.stem(group[0].file) + (group.count > 1 ? " +\(group.count - 1)" : "")
                if let stableSRUpscaler = upscaler as? StableSRUpscaler {
                    let size = stableSRUpscaler.paddedSize(width: group[0].image.width, height: group[0].image.height)
                    if let plan = try stableSRUpscaler.memoryPlan(paddedHeight: size.height, paddedWidth: size.width),
                       stableSR.verbose || plan.pixelTile != stableSRUpscaler.settings.pixelTile || plan.releasesSamplingLayouts
                        || plan.weightCacheBytes != nil {
                        printError("\(label): memory budget \(StableSRMemoryPlan.formatBytes(stableSRUpscaler.settings.memoryBudget!)): \(plan.summary)")
                    }
                }
                var bar: ProgressBar? = nil
                let results = try upscaler.upscale(group.map(\.image), seeds: group.map { seed &+ UInt64($0.index) }) { done, total in
                    if bar == nil || done == 1 && bar!.done > 0 { bar = ProgressBar(label: label, total: total) }
                    bar!.advance()
                    return !Interrupt.requested
                }
                for (entry, result) in zip(group, results) {
                    let destination = single ? output : output + "/" + ImageSet.stem(entry.file) + ".png"
                    try result.write(toFile: destination)
                    if sideBySide {
                        let bicubic = entry.image.resized(width: result.width, height: result.height, method: .pilBicubic).clipped()
                        let comparison = (destination as NSString).deletingPathExtension + "_vs_bicubic.png"
                        try Image.sideBySide([bicubic, result]).write(toFile: comparison)
                    }
                    printError("\(entry.file) \(entry.image.width)x\(entry.image.height) → \(destination) \(result.width)x\(result.height)")
                }
            }
        }
    }
}
