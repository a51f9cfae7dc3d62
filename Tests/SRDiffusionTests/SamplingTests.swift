import Foundation
import Testing
import SRDiffusion
import SRPipelines
import SRModels
import SRImage
import SRTensor
import _TestSupport


@Suite("Diffusion: schedules and samplers")
struct SamplingTests {
    struct Fixture: Decodable {
        struct Values: Decodable { let shape: [Int]; let values: [Float] }
        struct Loop: Decodable { let schedule: BetaScheduleConfiguration; let seed: UInt64; let condition: Values; let sample: Values }
        let schedules: [String: [Double]]
        let loop: Loop
    }
    struct ModelFixture: Decodable { let config: SR3UNetConfiguration }

    static let fixture: Fixture = try! Fixtures.json("sr3/sampling.json")

    @Test("β schedules equal the reference's make_beta_schedule", .tags(.golden), arguments: BetaScheduleConfiguration.Kind.allCases)
    func schedules(_ kind: BetaScheduleConfiguration.Kind) {
        let betas = BetaScheduleConfiguration(schedule: kind, stepCount: 50, linearStart: 1e-4, linearEnd: 2e-2).betas()
        let expected = Self.fixture.schedules[kind.rawValue]!
        #expect(betas.count == expected.count)
        for (a, b) in zip(betas, expected) { #expect(abs(a - b) <= 1e-15 + 1e-12 * abs(b), "\(kind): \(a) vs \(b)") }
    }

    @Test("DDPM with every step reproduces the reference's p_sample_loop from the same seed", .tags(.golden))
    func referenceLoop() throws {
        let model = try loadTinyModel()
        let loop = Self.fixture.loop
        var generator = TorchGenerator(seed: loop.seed)
        var rng = TestGenerator(state: 0)
        let condition = Tensor(shape: loop.condition.shape, values: loop.condition.values)
        let sample = try withTrainingMode(false) {
            try DiffusionSampling.run(condition: condition, sampler: DDPMSampler(schedule: NoiseSchedule(loop.schedule), steps: 8),
                                      generator: &generator) { input, level in model(input, noiseLevel: level, using: &rng) }
        }
        let expected = Tensor(shape: loop.sample.shape, values: loop.sample.values)
        #expect(relativeError(sample, expected) < 1e-4, "\(relativeError(sample, expected))")
    }

    func loadTinyModel() throws -> SR3UNet {
        let config = try Fixtures.json("sr3/tiny.json", as: ModelFixture.self).config
        var rng = TestGenerator(state: 1)
        let model = try SR3UNet(configuration: config, using: &rng)
        try SR3Checkpoint.loadPyTorch(contentsOfFile: Fixtures.path("sr3/tiny_gen.pth"), into: model)
        return model
    }

    /// An oracle that predicts the exact noise of a known clean image: every sampler must return it.
    @Test("With an exact noise oracle every sampler returns the clean image", .tags(.property), arguments: [2, 5, 20])
    func oracle(steps: Int) throws {
        let schedule = NoiseSchedule(BetaScheduleConfiguration(schedule: .linear, stepCount: 100, linearStart: 1e-4, linearEnd: 0.05))
        let clean = testTensor([1, 4, 4, 3], seed: 9, lower: -0.9, upper: 0.9)
        let condition = Tensor.zeros([1, 4, 4, 3])
        let samplers: [any DiffusionSampler] = [
            DDPMSampler(schedule: schedule, steps: steps), DDIMSampler(schedule: schedule, steps: steps, eta: 0),
            DDIMSampler(schedule: schedule, steps: steps, eta: 1), DPMSolverSampler(schedule: schedule, steps: steps),
        ]
        for sampler in samplers {
            var generator = TorchGenerator(seed: 5)
            let result = try DiffusionSampling.run(condition: condition, sampler: sampler, generator: &generator) { input, level in
                let x = input.sliced(alongAxis: 3, from: 3, count: 3)
                let c = level.scalars[0]
                return (x - clean * c) * (1 / (1 - c * c).squareRoot())
            }
            #expect(relativeError(result, clean) < 1e-4, "\(type(of: sampler)) with \(steps) steps")
        }
    }

    @Test("Respacing spreads steps from the noisiest to the first timestep")
    func respacing() {
        let schedule = NoiseSchedule(BetaScheduleConfiguration(stepCount: 2000))
        let spaced = RespacedSchedule(schedule, count: 5)
        #expect(spaced.timesteps == [1999, 1499, 1000, 500, 0])
        #expect(RespacedSchedule(schedule, count: 2000).timesteps == Array((0..<2000).reversed()))
        #expect(abs(schedule.alphasCumprod.last! - 4.39e-5) < 1e-7)   // algorithms.md §1.2
    }

    @Test("Sampling is deterministic for a seed and can be cancelled")
    func determinismAndCancel() throws {
        let schedule = NoiseSchedule(BetaScheduleConfiguration(stepCount: 10, linearStart: 1e-4, linearEnd: 0.1))
        let condition = Tensor.zeros([1, 4, 4, 3])
        let model: (Tensor, Tensor) -> Tensor = { input, _ in input.sliced(alongAxis: 3, from: 3, count: 3) * 0.5 }
        var a = TorchGenerator(seed: 3), b = TorchGenerator(seed: 3)
        let first = try DiffusionSampling.run(condition: condition, sampler: DDPMSampler(schedule: schedule, steps: 10), generator: &a, model: model)
        let second = try DiffusionSampling.run(condition: condition, sampler: DDPMSampler(schedule: schedule, steps: 10), generator: &b, model: model)
        #expect(first.scalars == second.scalars)
        var c = TorchGenerator(seed: 3)
        #expect(throws: DiffusionSampling.Cancelled.self) {
            try DiffusionSampling.run(condition: condition, sampler: DDIMSampler(schedule: schedule, steps: 4), generator: &c,
                                      model: model) { done, _ in done < 2 }
        }
    }

    @Test("A condition start feeds √ᾱ·c + √(1 − ᾱ)·ε to the first step; a noise start feeds ε")
    func conditionStart() throws {
        let schedule = NoiseSchedule(BetaScheduleConfiguration(stepCount: 10, linearStart: 1e-4, linearEnd: 0.1))
        let sampler = DDIMSampler(schedule: schedule, steps: 5)
        let condition = Tensor(shape: [1, 2, 2, 3], values: (0..<12).map { Float($0) / 12 - 0.5 })
        for start in DiffusionSampling.Start.allCases {
            var first: Tensor? = nil
            var generator = TorchGenerator(seed: 9), reference = TorchGenerator(seed: 9)
            _ = try DiffusionSampling.run(condition: condition, sampler: sampler, generator: &generator, start: start) { input, _ in
                if first == nil { first = input.sliced(alongAxis: 3, from: 3, count: 3) }
                return Tensor.zeros([1, 2, 2, 3])
            }
            let noise = Tensor.randomNormal([1, 2, 2, 3], order: .nchw, using: &reference)
            let a = sampler.noiseLevel(at: 0)
            let expected = start == .noise ? noise : condition * a + noise * (1 - a * a).squareRoot()
            #expect(relativeError(first!, expected) < 1e-6, "\(start)")
        }
    }

    @Test("An x₀-predicting model's upscaler hands the sampler ε̂ = (x − √γ·x̂₀)/√(1 − γ)")
    func imagePrediction() throws {
        // A tiny U-Net whose output we read back through the pipeline: one DDIM step from level a
        // to the end returns x̂₀ itself, clipped.
        var g = TorchGenerator(seed: 1)
        let unet = SR3UNetConfiguration(inChannel: 6, outChannel: 3, innerChannel: 8, normGroups: 4, channelMultiplier: [1, 2],
                                        attnRes: [], resBlocks: 1, dropout: 0, imageSize: 8)
        let network = try SR3UNet(configuration: unet, using: &g)
        var description = SR3ModelDescription(unet: unet, betaSchedule: BetaScheduleConfiguration(stepCount: 10, linearStart: 1e-4, linearEnd: 0.1), scale: 2)
        description.prediction = .x0
        let weights = Dictionary(uniqueKeysWithValues: network.namedParameters().map { ($0.path, $0.parameter.value) })
        let model = try SR3ModelFile(description: description, weights: weights)
        var upscaler = SR3Upscaler(model: model, sampler: .ddim, steps: 1)
        upscaler.start = .noise
        var generator = TorchGenerator(seed: 2), replay = TorchGenerator(seed: 2)
        let image = Image(width: 4, height: 4, channels: 3, pixels: (0..<48).map { Float($0 % 7) / 7 })
        let out = try upscaler.upscale(image, generator: &generator)
        let condition = upscaler.condition(for: image)
        let x = Tensor.randomNormal([1, 8, 8, 3], order: .nchw, using: &replay)
        let level = Tensor(shape: [1], repeating: upscaler.makeSampler().noiseLevel(at: 0))
        var dropout = SystemRandomNumberGenerator()
        let predicted = withTrainingMode(false) { network(Tensor.concatenate([condition, x], alongAxis: 3), noiseLevel: level, using: &dropout) }
        let expected = predicted.scalars.map { min(max(($0 + 1) / 2, 0), 1) }
        #expect(zip(out.pixels, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }
}
