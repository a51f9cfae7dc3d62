import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr train`: train an SR3 (or Regression) model from a JSON configuration.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an SR3 model (or its Regression twin) on folders of HR images.",
        discussion: """
            The configuration (JSON, see Configs/) names the data folders, the U-Net, the noise schedule,
            the optimizer and the output folder, which receives log.jsonl, checkpoint.safetensors,
            samples/, best.safetensors (the EMA weights of the best validation PSNR-Y so far) and, at
            the end, model.safetensors (the last EMA weights) for `diffsr upscale --model`.
            Ctrl-C writes a checkpoint and stops; --resume continues exactly where it stopped.
            """)

    @Option(help: "Training configuration (JSON).")
    var config: String

    @Option(help: "Resume from a checkpoint.safetensors of an earlier run.")
    var resume: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let configuration = try TrainingConfiguration(contentsOfFile: config)
            let trainer = try Trainer(configuration: configuration, resumeFrom: resume)
            printError("training \(configuration.name): \(trainer.network.parameterCount) parameters, steps \(trainer.step)→\(configuration.steps)")
            var bar = ProgressBar(label: "train", total: configuration.steps - trainer.step)
            do {
                try trainer.train(report: { _, loss, rate in
                    bar.advance(String(format: "loss %.4f", loss))
                    _ = rate
                }, shouldStop: { Interrupt.requested })
            } catch is DiffusionSampling.Cancelled {
                let checkpoint = configuration.output + "/checkpoint.safetensors"
                printError("interrupted at step \(trainer.step): checkpoint written; continue with --resume \(checkpoint)")
                throw ExitCode(130)
            }
            printError("done: \(configuration.output)/model.safetensors")
        }
    }
}
