import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr bench`: speed measurements of the models (release builds).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the models (use a release build; compare with PyTorch through Tools/bench/compare_unet.sh).",
        subcommands: [BenchUNet.self, BenchStableSR.self, BenchAutoencoder.self])
}

/// `diffsr bench unet`: median milliseconds of an SR3 U-Net forward pass or training step.
struct BenchUNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet",
        abstract: "Time the SR3 U-Net: a forward pass (evaluation mode) or a training step (SR3 loss, backward, AdamW).",
        discussion: """
            --model-config is a reference config (model.unet, e.g. the reference's sr_sr3_16_128.json) or a
            training configuration of this project (top-level unet). Inputs are random: [B, N, N, 6] and a noise
            level per image. A training step draws √γ, noises a random HR, takes the L1 loss of the ε
            prediction, backpropagates and applies AdamW (as Tools/bench/unet_bench.py does in PyTorch).
            Two warm-up iterations, then at least 5 (and up to --seconds of) timed ones; the median is reported.
            """)

    @Option(help: "Reference SR3 config (model.unet) or a training configuration (unet).")
    var modelConfig: String

    @Option(help: "Image side in pixels.")
    var size: Int = 128

    @Option(help: "Batch size.")
    var batch: Int = 1

    @Option(help: "forward or train.")
    var mode: Mode = .forward

    @Option(help: "Output: table or json (one line).")
    var format: Format = .table

    @Option(help: "Time budget for the timed iterations, in seconds (at least 5 iterations run).")
    var seconds: Double = 10

    @OptionGroup var compute: ComputeOptions

    enum Mode: String, ExpressibleByArgument, CaseIterable { case forward, train }
    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    func validate() throws {
        if size < 1 || batch < 1 { throw ValidationError("--size and --batch must be positive") }
    }

    /// The U-Net configuration of either config format.
    static func unetConfiguration(at path: String) throws -> SR3UNetConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandError("\(path): cannot read") }
        let text = String(decoding: data, as: UTF8.self)
        if let root = try? JSONSerialization.jsonObject(with: Data(strippingJSONComments(text).utf8)) as? [String: Any],
           root["model"] == nil, let unet = root["unet"] {
            let wrapped = try JSONSerialization.data(withJSONObject: ["model": ["unet": unet]])
            return try SR3UNetConfiguration(referenceConfigText: String(decoding: wrapped, as: UTF8.self), name: path)
        }
        return try SR3UNetConfiguration(referenceConfigText: text, name: path)
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let unet = try Self.unetConfiguration(at: modelConfig)
            var generator = TorchGenerator(seed: 0)
            let network = try SR3UNet(configuration: unet, using: &generator)
            guard size % network.sizeMultiple == 0 else { throw CommandError("--size must be a multiple of \(network.sizeMultiple) for this U-Net") }
            let input = Tensor.randomNormal([batch, size, size, unet.inChannel], using: &generator)
            let levels = Tensor(shape: [batch], values: (0..<batch).map { _ in Float(0.2 + 0.6 * generator.uniformDouble()) })
            var optimizer = Adam.adamW(learningRate: 1e-4)
            let iteration: () -> Void
            switch mode {
            case .forward:
                iteration = {
                    withTrainingMode(false) { withoutGradients { _ = network(input, noiseLevel: levels, using: &generator).scalars.first } }
                }
            case .train:
                let highResolution = Tensor.randomNormal([batch, size, size, unet.outChannel], using: &generator)
                let condition = input.sliced(alongAxis: 3, from: 0, count: unet.inChannel - unet.outChannel)
                iteration = {
                    withTrainingMode(true) {
                        let noise = Tensor.randomNormal(highResolution.shape, using: &generator)
                        let c = levels.reshaped(to: [batch, 1, 1, 1])
                        let noisy = highResolution.noised(level: c, noise: noise)
                        let x = Tensor.concatenate([condition, noisy], alongAxis: 3)
                        let (_, gradients) = valueAndGradient(model: network) { model in
                            Tensor.l1Loss(model(x, noiseLevel: levels, using: &generator), noise)
                        }
                        optimizer.update(network, gradients: gradients)
                    }
                }
            }
            iteration(); iteration()
            var times: [Double] = []
            let start = Date()
            while times.count < 5 || Date().timeIntervalSince(start) < seconds {
                let t = Date()
                iteration()
                times.append(Date().timeIntervalSince(t) * 1000)
                if Interrupt.requested { throw ExitCode(130) }
            }
            let median = times.sorted()[times.count / 2]
            let name = "unet \(URL(fileURLWithPath: modelConfig).deletingPathExtension().lastPathComponent) size=\(size) batch=\(batch) mode=\(mode.rawValue)"
            if format == .json {
                print("{\"name\": \(EvaluationReport.jsonString(name)), \"parameters\": \(network.parameterCount), \"threads\": \(Parallelism.threadCount), "
                      + "\"backend\": \"diffsr\", \"median_ms\": \(String(format: "%.3f", median)), \"runs\": \(times.count)}")
            } else {
                print(String(format: "%@: %d parameters, %d threads, median %.1f ms over %d runs", name, network.parameterCount,
                             Parallelism.threadCount, median, times.count))
            }
        }
    }
}
