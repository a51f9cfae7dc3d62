import Testing
import SRBenchmark
import SRDiffusion
import SRPipelines
import SRModels
import SRTensor

@Suite("Sampling settings")
struct SamplingSettingsTests {
    /// A tiny SR3+ model whose description records a default test-time augmentation level.
    func model(defaultLevel: Double?, sampling: SamplingDefaults? = nil) throws -> SR3ModelFile {
        var generator = TorchGenerator(seed: 1)
        let unet = SR3UNetConfiguration(innerChannel: 8, normGroups: 4, channelMultiplier: [1, 2], attnRes: [], resBlocks: 1,
                                        dropout: 0, imageSize: 16, conditionAugmentation: true)
        let network = try SR3UNet(configuration: unet, using: &generator)
        var description = SR3ModelDescription(unet: unet, betaSchedule: BetaScheduleConfiguration(stepCount: 20), scale: 2)
        description.augmentationLevel = defaultLevel
        description.sampling = sampling
        return try SR3ModelFile(description: description,
                                weights: Dictionary(uniqueKeysWithValues: network.namedParameters().map { ($0.path, $0.parameter.value) }))
    }

    @Test("The augmentation level defaults to the model's, a setting overrides it, and bad settings are refused")
    func upscalerFromSettings() throws {
        let recorded = try model(defaultLevel: 0.2)
        #expect(try SR3Upscaler(model: recorded, settings: SamplingSettings()).augmentationLevel == 0.2)
        #expect(try SR3Upscaler(model: recorded, settings: SamplingSettings(augmentationLevel: 0)).augmentationLevel == 0)
        #expect(try SR3Upscaler(model: model(defaultLevel: nil), settings: SamplingSettings()).augmentationLevel == 0)
        #expect(SamplingSettings(augmentationLevel: 0.3).summary.contains("aug level 0.3"))
        #expect(throws: BenchmarkError.self) { try SR3Upscaler(model: recorded, settings: SamplingSettings(steps: 21)) }
        #expect(throws: BenchmarkError.self) { try SR3Upscaler(model: recorded, settings: SamplingSettings(tile: 17, tileOverlap: 4)) }
    }

    @Test("Sampler, steps and color correction default to the model's recorded ones, else the tool's; flags override each")
    func recordedSamplingDefaults() throws {
        let recorded = try model(defaultLevel: 0.1, sampling: SamplingDefaults(sampler: .dpmSolverPlusPlus, steps: 3, colorCorrection: .wavelet))
        let byDefault = try SR3Upscaler(model: recorded, settings: SamplingSettings())
        #expect(byDefault.sampler == .dpmSolverPlusPlus && byDefault.steps == 3 && byDefault.colorCorrection == .wavelet)
        #expect(byDefault.makeSampler() is DPMSolverSampler)
        let overridden = try SR3Upscaler(model: recorded, settings: SamplingSettings(sampler: .ddim, steps: 5, colorCorrection: ColorCorrection.none))
        #expect(overridden.sampler == .ddim && overridden.steps == 5 && overridden.colorCorrection == .none)
        // One field recorded: the others come from the tool's defaults.
        let partial = try SR3Upscaler(model: model(defaultLevel: nil, sampling: SamplingDefaults(steps: 1)), settings: SamplingSettings())
        #expect(partial.sampler == .ddim && partial.steps == 1 && partial.colorCorrection == .none)
        let none = try SR3Upscaler(model: model(defaultLevel: nil), settings: SamplingSettings())
        #expect(none.sampler == .ddim && none.steps == 10 && none.colorCorrection == .none)
        // The plain initializer follows the same rule.
        #expect(SR3Upscaler(model: recorded).steps == 3 && SR3Upscaler(model: recorded, steps: 7).steps == 7)
        // What a benchmark column runs, spelled out (also its cache key).
        let resolved = SamplingSettings(steps: 2).resolved(for: recorded.description)
        #expect(resolved == SamplingSettings(sampler: .dpmSolverPlusPlus, steps: 2, colorCorrection: .wavelet, augmentationLevel: 0.1))
        #expect(resolved.summary == "dpm-solver++ 2 steps, color fix wavelet, aug level 0.1")
        #expect(SamplingSettings().summary == "model's sampler model's steps, model's color fix")
        #expect(SamplingSettings(sampler: .ddim, steps: 1, colorCorrection: ColorCorrection.none).summary == "ddim 1 step")
        // A recorded step count beyond the schedule is refused, naming where it came from.
        let broken = try model(defaultLevel: nil, sampling: SamplingDefaults(steps: 21))
        #expect(throws: BenchmarkError.self) { try SR3Upscaler(model: broken, settings: SamplingSettings()) }
        do { _ = try SR3Upscaler(model: broken, settings: SamplingSettings()) } catch { #expect("\(error)".contains("recorded in the model file")) }
    }

    @Test("Recorded defaults survive the model file; descriptions written before them still load")
    func samplingDefaultsInTheFile() throws {
        var description = try model(defaultLevel: 0.2).description
        description.sampling = SamplingDefaults(steps: 1, colorCorrection: .wavelet)
        let json = try description.encodedJSON()
        #expect(json.contains("\"sampling\":{\"color_correction\":\"wavelet\",\"steps\":1}"))
        #expect(try SR3ModelDescription(json: json) == description)
        description.sampling = nil
        let old = try description.encodedJSON()
        #expect(!old.contains("sampling"))
        #expect(try SR3ModelDescription(json: old).effectiveSampling == SamplingDefaults.tool)
    }
}
