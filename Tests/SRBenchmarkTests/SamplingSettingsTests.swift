import Testing
import SRBenchmark
import SRDiffusion
import SRModels
import SRTensor

@Suite("Sampling settings")
struct SamplingSettingsTests {
    /// A tiny SR3+ model whose description records a default test-time augmentation level.
    func model(defaultLevel: Double?) throws -> SR3ModelFile {
        var generator = TorchGenerator(seed: 1)
        let unet = SR3UNetConfiguration(innerChannel: 8, normGroups: 4, channelMultiplier: [1, 2], attnRes: [], resBlocks: 1,
                                        dropout: 0, imageSize: 16, conditionAugmentation: true)
        let network = try SR3UNet(configuration: unet, using: &generator)
        var description = SR3ModelDescription(unet: unet, betaSchedule: BetaScheduleConfiguration(stepCount: 20), scale: 2)
        description.augmentationLevel = defaultLevel
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
}
