import Foundation
import Testing
import SRDiffusion
import SRTensor
import _TestSupport

/// StableSR's respaced DDPM schedule and tile weights against the reference's own code
/// (Tools/golden/make_stablesr_fixtures.py: space_timesteps and the respacing loop of the tile
/// script, register_schedule's buffers, `_gaussian_weights`; IceClear/StableSR 398ee93).
@Suite("StableSR sampling schedule", .tags(.golden))
struct LatentSamplingTests {
    struct Schedule: Decodable {
        let timesteps: [Int]
        let alphas_cumprod: [Double]
        let posterior_mean_coef1: [Double]
        let posterior_mean_coef2: [Double]
        let posterior_log_variance_clipped: [Double]
    }
    struct Sampling: Decodable {
        let base_alphas_cumprod_999: Double
        let schedules: [String: Schedule]
        let gaussian_weights: [String: [Double]]
    }
    struct File: Decodable {
        struct Cases: Decodable { let sampling: Sampling }
        let cases: Cases
    }
    static let fixture: Sampling = try! Fixtures.json("stablesr/networks.json", as: File.self).cases.sampling
    /// ldm's "linear" schedule: β = linspace(√0.00085, √0.012, 1000)².
    static let training = NoiseSchedule(BetaScheduleConfiguration(schedule: .quad, stepCount: 1000, linearStart: 0.00085, linearEnd: 0.012))

    @Test("Training schedule: √ᾱ₉₉₉ = 0.068265")
    func trainingSchedule() {
        #expect(Float(Self.training.alphasCumprod[999]) == Float(Self.fixture.base_alphas_cumprod_999))
        #expect(abs(Self.training.alphasCumprod[999].squareRoot() - 0.068265) < 1e-6)
    }

    @Test("space_timesteps respacing in Float32: timesteps, ᾱ and the DDPM step's coefficients", arguments: ["1", "4", "50", "200"])
    func respacing(_ steps: String) {
        let expected = Self.fixture.schedules[steps]!
        var sampler = DDPMSampler(schedule: Self.training, steps: Int(steps)!, clipsDenoised: false, respacing: .spaceTimesteps, precision: .float32)
        #expect(sampler.schedule.timesteps == expected.timesteps.reversed())
        let count = expected.timesteps.count
        for index in 0..<count {
            let i = count - 1 - index   // the reference's buffers are indexed oldest step first
            #expect(abs(sampler.alphaCumprod(at: index) / expected.alphas_cumprod[i] - 1) < 1e-6, "ᾱ at \(index)")
            // x = 1 and ε̂ = 0: x̂₀ = √(1/ᾱ), mean = coef1·x̂₀ + coef2; the noise is scaled by exp(½ log β̃).
            let x = Tensor.ones([1, 1, 1, 1])
            let mean = sampler.step(x, modelOutput: Tensor.zeros([1, 1, 1, 1]), prediction: .epsilon, at: index) { Tensor.zeros([1, 1, 1, 1]) }.sample
            let reference = expected.posterior_mean_coef1[i] * (1 / expected.alphas_cumprod[i]).squareRoot() + expected.posterior_mean_coef2[i]
            #expect(abs(Double(mean.scalar) / reference - 1) < 1e-5, "mean at \(index)")
            if index < count - 1 {
                let noisy = sampler.step(x, modelOutput: Tensor.zeros([1, 1, 1, 1]), prediction: .epsilon, at: index) { Tensor.ones([1, 1, 1, 1]) }.sample
                let deviation = Double(noisy.scalar - mean.scalar)
                #expect(abs(deviation / Foundation.exp(0.5 * expected.posterior_log_variance_clipped[i]) - 1) < 1e-4, "σ at \(index)")
            }
        }
    }

    @Test("Tile weights: StableSR's Gaussian window (vertical centre H/2)", arguments: ["8", "64"])
    func gaussianWeights(_ size: String) {
        let n = Int(size)!
        let weights = TiledDenoiser(size: n, overlap: n / 2, window: .stableSR).weights(height: n, width: n).scalars
        let scale = 1 / (2 * Double.pi * 0.01)   // the reference's 1/√(2π·var) per axis, which the blend cancels
        let expected = Self.fixture.gaussian_weights[size]!
        for i in 0..<weights.count { #expect(abs(Double(weights[i]) * scale / expected[i] - 1) < 1e-5, "weight \(i)") }
        let symmetric = TiledDenoiser(size: n, overlap: n / 2).weights(height: n, width: n).scalars
        #expect(symmetric != weights)
    }

    @Test("Prediction types give the same x̂₀ for consistent ε, x₀ and v")
    func predictionTypes() {
        let x0 = testTensor([1, 3, 4, 2], seed: 1), noise = testTensor([1, 3, 4, 2], seed: 2)
        let a = 0.3
        let xt = x0 * Float(a.squareRoot()) + noise * Float((1 - a).squareRoot())
        let v = noise * Float(a.squareRoot()) - x0 * Float((1 - a).squareRoot())
        #expect(relativeError(PredictionType.epsilon.denoised(xt, prediction: noise, alphaCumprod: a), x0) < 1e-5)
        #expect(relativeError(PredictionType.velocity.denoised(xt, prediction: v, alphaCumprod: a), x0) < 1e-5)
        #expect(relativeError(PredictionType.sample.denoised(xt, prediction: x0, alphaCumprod: a), x0) == 0)
        #expect(relativeError(PredictionType.noise(xt, denoised: x0, alphaCumprod: a), noise) < 1e-5)
    }
}

/// DDIM and DPM-Solver++(2M) against diffusers' schedulers over whole runs (fixture:
/// Tools/golden/make_scheduler_fixtures.py, diffusers 0.42.1 in float64), with a closed-form
/// network, ε and v predictions, 4 and 10 steps.
@Suite("Samplers against diffusers", .tags(.golden))
struct DiffusersSamplerTests {
    struct Case: Decodable {
        let sampler: String
        let prediction: String
        let steps: Int
        let timesteps: [Int]
        let output: [Double]
    }
    struct File: Decodable { let input: [Float]; let cases: [Case] }
    static let fixture: File = try! Fixtures.json("schedulers.json")

    @Test("Whole runs match diffusers", arguments: 0..<8)
    func run(_ index: Int) throws {
        let c = Self.fixture.cases[index]
        let schedule = LatentSamplingTests.training
        let sampler: any DiffusionSampler = c.sampler == "ddim"
            ? DDIMSampler(schedule: schedule, steps: c.steps, eta: 0, clipsDenoised: false)
            : DPMSolverSampler(schedule: schedule, steps: c.steps, clipsDenoised: false)
        #expect(sampler.schedule.timesteps == c.timesteps)
        let initial = Tensor(shape: [1, 2, 3, 4], values: Self.fixture.input)
        let output = try DiffusionSampling.sample(from: initial, sampler: sampler, prediction: c.prediction == "epsilon" ? .epsilon : .velocity,
                                                  draw: { Tensor.zeros($0) }) { x, step in
            x * (0.3 * Float(Foundation.cos(Double(step.timestep) / 300))) + x.sin() * 0.2
        }
        var worst = 0.0
        for (a, b) in zip(output.scalars, c.output) { worst = max(worst, abs(Double(a) - b) / (1 + abs(b))) }
        #expect(worst < 2e-4, "\(c.sampler) \(c.prediction) \(c.steps) steps: error \(worst)")
    }
}
