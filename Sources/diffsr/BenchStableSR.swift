import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr bench stablesr`: StableSR's networks and pipeline at full width with random weights.
struct BenchStableSR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stablesr",
        abstract: "Time StableSR with random weights: one U-Net + time-aware encoder call, or the whole upscale.",
        discussion: """
            --part encode / decode: the CFW autoencoder's encoder (with its features) or Decoder_Mix (w 0.5) on a
            4·--input pixel square. --part unet: the time-aware encoder and the U-Net on a --latent × --latent latent (one DDPM step on one
            tile of the reference's tile script; 64 = a 512² tile); two warm-up calls, then at least 3 timed ones
            (and up to --seconds); the median is reported. --part pipeline: one upscale of a random --input ×
            --input RGB image ×4 with --steps DDPM steps (encode, sample on latent tiles, CFW decode, color fix),
            timed once without a warm-up run, as a user's first image. The networks are those of the released model (--model-config and
            --cfw-config take the reference YAMLs of other sizes), with PyTorch's default initialization and a
            random text context. Tools/bench/compare_stablesr.sh runs the reference's own modules beside it.
            --part profile: the memory profile the upscaler plans with (StableSRMemoryProfile). --memory-budget
            plans the pipeline within a budget as `diffsr upscale` does (default here: none, the reference's tiles);
            every part reports the peak of tensor bytes (TensorMemory) beside the peak resident set.
            """)

    @Option(help: "unet, encode, decode, pipeline or profile.")
    var part: Part = .unet

    @Option(help: "Latent side for --part unet.")
    var latent: Int = 64

    @Option(help: "Input side in pixels for --part pipeline.")
    var input: Int = 128

    @Option(help: "DDPM steps for --part pipeline.")
    var steps: Int = 2

    @Option(help: "StableSR YAML (default: the released 512 model's networks).")
    var modelConfig: String?

    @Option(help: "CFW YAML (default: SD 2.1's autoencoder with CFW).")
    var cfwConfig: String?

    @Option(help: "--part pipeline: memory budget (as diffsr upscale's; default none).")
    var memoryBudget: MemoryBudget = .unlimited

    @Option(help: "--part pipeline: pixel tile (default 1280).")
    var pixelTile: Int?

    @Option(help: "Output: table or json (one line).")
    var format: BenchUNet.Format = .table

    @Option(help: "Time budget for the timed iterations of --part unet, in seconds.")
    var seconds: Double = 20

    @OptionGroup var compute: ComputeOptions

    enum Part: String, ExpressibleByArgument, CaseIterable { case unet, encode, decode, pipeline, profile }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let c = try modelConfig.map(StableSRConfiguration.init(contentsOfYAMLFile:)) ?? .stableSR512
            let cfwConfiguration = try cfwConfig.map(AutoencoderConfiguration.init(contentsOfCFWYAMLFile:)) ?? .stableDiffusion
            var generator = TorchGenerator(seed: 0)
            var weights = SplitMix(state: 0)   // PyTorch's default initialization, drawn fast
            let built = Date()
            let usesUNet = part == .unet || part == .pipeline || part == .profile
            let unet = usesUNet ? try StableSRUNet(configuration: c.unet, using: &weights) : nil
            let encoder = usesUNet ? try TimeAwareEncoder(configuration: c.encoder, using: &weights) : nil
            let context = Tensor.randomNormal([1, 77, c.unet.contextDim], using: &generator)
            var name = "", milliseconds = 0.0, runs = 0
            let heldBefore = TensorMemory.liveBytes   // the weights (and inputs made so far)
            TensorMemory.resetPeak()
            var parameters = (unet?.parameterCount ?? 0) + (encoder?.parameterCount ?? 0)
            switch part {
            case .unet:
                let (unet, encoder) = (unet!, encoder!)
                let z = Tensor.randomNormal([1, latent, latent, c.unet.inChannels], using: &generator)
                let x = Tensor.randomNormal([1, latent, latent, c.unet.inChannels], using: &generator)
                let t = Tensor(shape: [1], values: [999])
                let call = {
                    withTrainingMode(false) {
                        withoutGradients { _ = unet(x, timesteps: t, context: context, structure: encoder(z, timesteps: t)).scalars.first }
                    }
                }
                call(); call()
                var times: [Double] = []
                let start = Date()
                while times.count < 3 || Date().timeIntervalSince(start) < seconds {
                    let begin = Date()
                    call()
                    times.append(Date().timeIntervalSince(begin) * 1000)
                    if Interrupt.requested { throw ExitCode(130) }
                }
                (name, milliseconds, runs) = ("stablesr unet+encoder latent=\(latent)", times.sorted()[times.count / 2], times.count)
            case .encode, .decode:
                let cfw = try KLAutoencoder(configuration: cfwConfiguration, fusion: true, using: &weights)
                parameters = cfw.parameterCount

                let side = input * 4
                let image = Tensor.randomNormal([1, side, side, 3], using: &generator).clamped(lower: -1, upper: 1)
                let posterior = withoutGradients { cfw.encode(image) }
                let call: () -> Void = part == .encode
                    ? { withoutGradients { _ = cfw.encode(image).mean.scalars.first } }
                    : { withoutGradients { _ = cfw.decode(posterior.mean, features: posterior.features, fusionWeight: 0.5).scalars.first } }
                let begin = Date()
                call()
                (name, milliseconds, runs) = ("stablesr cfw-\(part.rawValue) pixels=\(side)", Date().timeIntervalSince(begin) * 1000, 1)
            case .pipeline, .profile:
                let (unet, encoder) = (unet!, encoder!)
                let firstStage = try c.autoencoder.make(fusion: false, using: &weights)
                let cfw = try KLAutoencoder(configuration: cfwConfiguration, fusion: true, using: &weights)
                parameters += firstStage.parameterCount + cfw.parameterCount
                let model = StableSRModel(configuration: c, cfwConfiguration: .kl(cfwConfiguration), unet: unet, encoder: encoder,
                                          firstStage: firstStage, cfw: cfw, context: context, defaults: StableSRSettings.Recorded())
                let image = Image(width: input, height: input, channels: 3,
                                  pixels: (0..<(input * input * 3)).map { _ in generator.uniformFloat() })
                if part == .profile {
                    let begin = Date()
                    let p = model.memoryProfile
                    print(String(format: "memory profile: autoencoder %.0f B/pixel (features %.0f), sampling %.0f B/latent pixel; weights %@",
                                 p.autoencoderBytesPerPixel, p.featureBytesPerPixel, p.samplingBytesPerLatentPixel,
                                 StableSRMemoryPlan.formatBytes(TensorMemory.liveBytes)))
                    (name, milliseconds, runs) = ("stablesr memory profile", Date().timeIntervalSince(begin) * 1000, 1)
                    break
                }
                var settings = StableSRSettings()
                settings.rejectsNonFinite = false   // random weights may diverge; the time is what counts
                settings.steps = steps
                if let pixelTile { settings.pixelTile = pixelTile; settings.pixelTileStride = min(settings.pixelTileStride, pixelTile) }
                settings.memoryBudget = try memoryBudget.bytes()
                let upscaler = StableSRUpscaler(model: model, settings: settings)
                let padded = upscaler.paddedSize(width: input, height: input)
                if let plan = try upscaler.memoryPlan(paddedHeight: padded.height, paddedWidth: padded.width) { print("plan: \(plan.summary)") }
                let begin = Date()
                _ = try upscaler.upscale(image, seed: 0)
                (name, milliseconds, runs) = ("stablesr pipeline input=\(input) steps=\(steps)", Date().timeIntervalSince(begin) * 1000, 1)
            }
            let setup = Date().timeIntervalSince(built)
            let tensorPeak = Double(TensorMemory.peakBytes) / 1048576, weightsHeld = Double(heldBefore) / 1048576
            var usage = rusage()
            getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
            let peak: Double? = usage.ru_maxrss > 0 ? Double(usage.ru_maxrss) / 1024 : nil   // kilobytes on Linux
            if format == .json {
                print("{\"name\": \(EvaluationReport.jsonString(name)), \"parameters\": \(parameters), \"threads\": \(Parallelism.threadCount), "
                      + "\"backend\": \"diffsr\", \"median_ms\": \(String(format: "%.1f", milliseconds)), \"runs\": \(runs), "
                      + "\"peak_tensor_mb\": \(String(format: "%.0f", tensorPeak)), \"peak_rss_mb\": \(peak.map { String(format: "%.0f", $0) } ?? "null")}")
            } else {
                print(String(format: "%@: %d parameters, %d threads, median %.1f ms over %d runs (%.0f s with set-up), peak tensors %.0f MiB (%.0f MiB before the call), peak RSS %@", name, parameters,
                             Parallelism.threadCount, milliseconds, runs, setup, tensorPeak, weightsHeld, peak.map { String(format: "%.0f MiB", $0) } ?? "?"))
            }
        }
    }
}

/// SplitMix64: a fast generator for random benchmark weights.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
