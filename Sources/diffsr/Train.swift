import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr train`: train an SR3 (or Regression) model, or a stage of StableSR, from a JSON configuration.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an SR3 model (or its Regression twin), or a stage of StableSR, on folders of HR images.",
        discussion: """
            The configuration (JSON, see Configs/) names the data folders, the network, the noise schedule,
            the optimizer and the output folder, which receives log.jsonl, checkpoint.safetensors,
            samples/, best.safetensors (the EMA weights of the best validation so far) and, at
            the end, model.safetensors (the last EMA weights). A configuration with "stage" trains StableSR
            ("prior": the latent diffusion prior on TAEF2 latents, stage 0; "encoder": the time-aware encoder and
            SPADE on the frozen prior, stage 1; "cfw": the CFW fusion layers on latents the stage-1 model generates
            first, stage 2; stages 1 and 2 write StableSR model files); one without trains SR3 ("mode":
            sr3 or regression), whose model.safetensors is for `diffsr upscale --model`.
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
            // The task owns its loop (which holds it unowned): keep the task.
            let (name, task, loop): (String, TrainingTask, TrainingLoop)
            if StableSRTrainingConfiguration.isStableSR(contentsOfFile: config) {
                let configuration = try StableSRTrainingConfiguration(contentsOfFile: config)
                let label = "\(configuration.name) (StableSR stage \(configuration.stage.rawValue))"
                if configuration.stage == .cfw {
                    var pairs: ProgressBar?
                    let trainer = try CFWTrainer(configuration: configuration, resumeFrom: resume, pairProgress: { done, total in
                        if pairs == nil { pairs = ProgressBar(label: "cfw pairs", total: total) }
                        pairs?.advance("\(done)/\(total)")
                    })
                    (name, task, loop) = (label, trainer, trainer.loop)
                } else {
                    let trainer = try StableSRTrainer(configuration: configuration, resumeFrom: resume)
                    (name, task, loop) = (label, trainer, trainer.loop)
                }
            } else {
                let configuration = try TrainingConfiguration(contentsOfFile: config)
                let trainer = try Trainer(configuration: configuration, resumeFrom: resume)
                (name, task, loop) = (configuration.name, trainer, trainer.loop)
            }
            let trainable = task.network.trainableParameters().reduce(0) { $0 + $1.parameter.value.count }
            printError("training \(name): \(trainable) trainable parameters, steps \(loop.step)→\(loop.settings.steps)")
            var bar = ProgressBar(label: "train", total: loop.settings.steps - loop.step)
            do {
                try withExtendedLifetime(task) {
                    try loop.train(report: { _, loss, _ in bar.advance(String(format: "loss %.4f", loss)) }, shouldStop: { Interrupt.requested })
                }
            } catch is DiffusionSampling.Cancelled {
                let checkpoint = loop.settings.output + "/checkpoint.safetensors"
                printError("interrupted at step \(loop.step): checkpoint written; continue with --resume \(checkpoint)")
                throw ExitCode(130)
            }
            printError("done: \(loop.settings.output)/model.safetensors")
        }
    }
}
