import Foundation
import Testing
import SRCheckpoint
import SRDiffusion
import SRPipelines
import SRImage
import SRModels
import SRTensor
@testable import SRTraining
import _TestSupport

@Suite("Trainer", .serialized)
struct TrainerTests {
    /// A temporary data set of smooth synthetic photos and a tiny configuration.
    static func setUp(steps: Int, output: String, mode: SR3ModelDescription.Kind = .sr3) throws -> TrainingConfiguration {
        let root = output + "-data"
        for split in ["train", "val"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(split)", withIntermediateDirectories: true)
            for i in 0..<2 {
                var image = Image(width: 40, height: 36, channels: 3)
                for y in 0..<36 { for x in 0..<40 { for c in 0..<3 {
                    image[y, x, c] = 0.5 + 0.4 * Float(sin(Double(x * (i + 1) + y * 2 + c * 5) / 4.0))
                } } }
                try image.write(toFile: "\(root)/\(split)/img\(i).png")
            }
        }
        let json = """
        {"name": "tiny", "mode": "\(mode.rawValue)", "scale": 2,
         "unet": {"in_channel": 6, "out_channel": 3, "inner_channel": 8, "norm_groups": 4, "channel_multiplier": [1, 2],
                  "attn_res": [8], "res_blocks": 1, "dropout": 0.1, "image_size": 16},
         "beta_schedule": {"schedule": "linear", "n_timestep": 20, "linear_start": 1e-4, "linear_end": 0.1},
         "data": {"train": "\(root)/train", "validation": "\(root)/val", "crop_size": 16, "batch_size": 2, "flat_threshold": 0.01,
                  "degradation": "matlab-bicubic", "conditioning": "pil-bicubic", "validation_count": 1},
         "optimization": {"learning_rate": 1e-3, "weight_decay": 0.01, "warmup_steps": 2, "gradient_clip": 1.0, "ema_decay": 0.9},
         "steps": \(steps), "log_every": 1, "validate_every": 3, "checkpoint_every": 3, "validation_sampler_steps": 2,
         "seed": 5, "output": "\(output)"}
        """
        try json.write(toFile: output + ".json", atomically: true, encoding: .utf8)
        return try TrainingConfiguration(contentsOfFile: output + ".json")
    }

    func weights(_ trainer: Trainer) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: trainer.network.namedParameters().map { ($0.path, $0.parameter.value.scalars) })
    }

    @Test("A run writes its log, checkpoints, samples and a usable model")
    func run() throws {
        let dir = try makeTemporaryDirectory("diffsr-train")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = try Self.setUp(steps: 4, output: dir + "/run")
        let trainer = try Trainer(configuration: configuration)
        var reported: [Int] = []
        try trainer.train(report: { step, loss, _ in reported.append(step); #expect(loss.isFinite) })
        #expect(reported == [1, 2, 3, 4])
        let log = try String(contentsOfFile: dir + "/run/log.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 6)   // 4 steps + 2 validations
        let validation = try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as! [String: Any]
        #expect(validation["event"] as? String == "validation" && (validation["psnr_y"] as? Double ?? 0) > 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/run/checkpoint.safetensors"))
        #expect(!(try folderContents(dir + "/run/samples")).isEmpty)
        let model = try SR3ModelFile(contentsOfFile: dir + "/run/model.safetensors")
        #expect(model.description.scale == 2 && model.description.kind == .sr3)
        var generator = TorchGenerator(seed: 1)
        let out = try SR3Upscaler(model: model, sampler: .ddim, steps: 2).upscale(Image(width: 8, height: 8, channels: 3, repeating: 0.5), generator: &generator)
        #expect(out.width == 16 && out.height == 16)
        // The best validation so far is exported and remembered in the checkpoint.
        let validations = try log.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            .filter { $0["event"] as? String == "validation" }
        let scores = validations.compactMap { $0["psnr_y"] as? Double }
        #expect(scores.count == 2 && validations[0]["best"] as? Bool == true)
        #expect((validations[1]["best"] as? Bool == true) == (scores[1] > scores[0]))
        let top = try #require(scores.max())   // the log's JSON may round the last digit
        #expect(abs(try #require(trainer.bestValidationPSNR) - top) < 1e-9)
        let checkpoint = try SafeTensorsFile(contentsOfFile: dir + "/run/checkpoint.safetensors")
        #expect(checkpoint.metadata["diffsr.best_score"].flatMap(Double.init) == trainer.bestValidationPSNR)
        let best = try SR3ModelFile(contentsOfFile: dir + "/run/best.safetensors")
        #expect(best.description == model.description)
        if scores[1] > scores[0] {   // the last validation was the best: the same weights as model.safetensors
            let parameters = { (m: SR3ModelFile) in Dictionary(uniqueKeysWithValues: m.network.namedParameters().map { ($0.path, $0.parameter.value.scalars) }) }
            #expect(parameters(best) == parameters(model))
        }
        #expect(try Trainer(configuration: configuration, resumeFrom: dir + "/run/checkpoint.safetensors").bestValidationPSNR == trainer.bestValidationPSNR)
    }

    @Test("Resuming from a checkpoint continues exactly")
    func exactResume() throws {
        let dir = try makeTemporaryDirectory("diffsr-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try Trainer(configuration: try Self.setUp(steps: 6, output: dir + "/a"))
        try straight.train()
        var first = try Self.setUp(steps: 3, output: dir + "/b")
        try Trainer(configuration: first).train()
        first.steps = 6
        let resumed = try Trainer(configuration: first, resumeFrom: dir + "/b/checkpoint.safetensors")
        #expect(resumed.step == 3)
        try resumed.train()
        #expect(weights(resumed) == weights(straight))
        #expect(resumed.loop.ema.shadow.mapValues(\.scalars) == straight.loop.ema.shadow.mapValues(\.scalars))
    }

    @Test("A non-finite loss stops training and keeps the last good checkpoint")
    func divergence() throws {
        let dir = try makeTemporaryDirectory("diffsr-diverge")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(configuration: try Self.setUp(steps: 6, output: dir + "/run"))
        trainer.lossHook = { step, loss in step == 5 ? .nan : loss }
        do {
            try trainer.train()
            Issue.record("training did not stop")
        } catch let error as TrainingError {
            #expect("\(error)".contains("step 5") && "\(error)".contains("checkpoint.safetensors"))
        }
        let checkpoint = try SafeTensorsFile(contentsOfFile: dir + "/run/checkpoint.safetensors")
        #expect(checkpoint.metadata["diffsr.step"] == "3")
    }

    @Test("Regression mode trains the same U-Net to predict the HR image")
    func regression() throws {
        let dir = try makeTemporaryDirectory("diffsr-regression")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try Trainer(configuration: try Self.setUp(steps: 3, output: dir + "/run", mode: .regression))
        try trainer.train()
        let model = try SR3ModelFile(contentsOfFile: dir + "/run/model.safetensors")
        #expect(model.description.kind == .regression)
    }

    @Test("Blind training: a degradation preset on the fly and condition augmentation (SR3+)")
    func blind() throws {
        let dir = try makeTemporaryDirectory("diffsr-blind")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.setUp(steps: 2, output: dir + "/run")
        var text = try String(contentsOfFile: dir + "/run.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"validation_count\": 1}", with: "\"validation_count\": 1, \"degradation_model\": \"stablesr\", \"augmentation_max\": 0.4}")
        text = text.replacingOccurrences(of: "\"image_size\": 16}", with: "\"image_size\": 16, \"condition_augmentation\": true}")
        try text.write(toFile: dir + "/blind.json", atomically: true, encoding: .utf8)
        let configuration = try TrainingConfiguration(contentsOfFile: dir + "/blind.json")
        #expect(configuration.data.degradationModel?.name == "stablesr" && configuration.unet.conditionAugmentation)
        let trainer = try Trainer(configuration: configuration)
        try trainer.train()
        let model = try SR3ModelFile(contentsOfFile: dir + "/run/model.safetensors")
        #expect(model.description.unet.conditionAugmentation)
        // Validation tried each test-time level and recorded the best as the model's default.
        let log = try String(contentsOfFile: dir + "/run/log.jsonl", encoding: .utf8).split(separator: "\n")
        let validation = try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as! [String: Any]
        let byLevel = try #require(validation["psnr_y_by_augmentation_level"] as? [String: Double])
        #expect(byLevel.count == Trainer.validationAugmentationLevels.count)
        let chosen = try #require(model.description.augmentationLevel)
        #expect(validation["augmentation_level"] as? Double == chosen && trainer.augmentationLevel == chosen)
        #expect(byLevel[String(chosen)] == byLevel.values.max() && validation["psnr_y"] as? Double == byLevel.values.max())
        #expect(SR3Upscaler(model: model).augmentationLevel == chosen)
        // A resumed trainer keeps the chosen level.
        #expect(try Trainer(configuration: configuration, resumeFrom: dir + "/run/checkpoint.safetensors").augmentationLevel == chosen)
        var upscaler = SR3Upscaler(model: model, sampler: .ddim, steps: 2)
        upscaler.augmentationLevel = 0.2
        var generator = TorchGenerator(seed: 2)
        let out = try upscaler.upscale(Image(width: 8, height: 8, channels: 3, repeating: 0.5), generator: &generator)
        #expect(out.width == 16 && out.pixels.allSatisfy { (0...1).contains($0) })
    }

    @Test("An x₀-predicting SR3 model starts from a Regression model's weights and samples through ε̂")
    func imagePredictionFromRegression() throws {
        let dir = try makeTemporaryDirectory("diffsr-x0")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Trainer(configuration: try Self.setUp(steps: 2, output: dir + "/regression", mode: .regression)).train()
        var configuration = try Self.setUp(steps: 2, output: dir + "/x0")
        configuration.prediction = .x0
        configuration.initializeFrom = dir + "/regression/model.safetensors"
        let trainer = try Trainer(configuration: configuration)
        let source = try SR3ModelFile(contentsOfFile: dir + "/regression/model.safetensors")
        #expect(weights(trainer) == Dictionary(uniqueKeysWithValues: source.network.namedParameters().map { ($0.path, $0.parameter.value.scalars) }))
        try trainer.train()
        let model = try SR3ModelFile(contentsOfFile: dir + "/x0/model.safetensors")
        #expect(model.description.kind == .sr3 && model.description.prediction == .x0)
        // At every step ε̂ is derived from x̂₀, so a DDIM run ends on the network's own x̂₀ (clipped).
        var generator = TorchGenerator(seed: 4)
        let out = try SR3Upscaler(model: model, sampler: .ddim, steps: 3).upscale(Image(width: 8, height: 8, channels: 3, repeating: 0.4), generator: &generator)
        #expect(out.width == 16 && out.pixels.allSatisfy { (0...1).contains($0) })
        // A different U-Net is refused.
        var mismatched = configuration
        mismatched.unet.innerChannel = 16
        #expect(throws: TrainingError.self) { _ = try Trainer(configuration: mismatched) }
    }

    @Test("An SR3+ network starts from a model without augmentation and computes its function at every τ")
    func augmentationFromPlainModel() throws {
        let dir = try makeTemporaryDirectory("diffsr-aug-init")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Trainer(configuration: try Self.setUp(steps: 2, output: dir + "/regression", mode: .regression)).train()
        var configuration = try Self.setUp(steps: 2, output: dir + "/plus")
        configuration.prediction = .x0
        configuration.unet.conditionAugmentation = true
        configuration.initializeFrom = dir + "/regression/model.safetensors"
        let trainer = try Trainer(configuration: configuration)
        let source = try SR3ModelFile(contentsOfFile: dir + "/regression/model.safetensors")
        var generator = TorchGenerator(seed: 3)
        let input = Tensor.randomNormal([1, 16, 16, 6], using: &generator)
        let level = Tensor(shape: [1], values: [0.7])
        let reference = withoutGradients { withTrainingMode(false) { source.network(input, noiseLevel: level, using: &generator) } }
        for tau: Float in [1, 0.5, 0.1] {
            let out = withoutGradients { withTrainingMode(false) {
                trainer.unet(input, noiseLevel: level, augmentationLevel: Tensor(shape: [1], values: [tau]), using: &generator)
            } }
            #expect(out.scalars == reference.scalars)
        }
        // The new embedding's first layer keeps a random initialization (so gradients reach it).
        let first = trainer.network.parameterDictionary()["aug_level_mlp.1.weight"]!.value.scalars
        #expect(first.contains { $0 != 0 })
        try trainer.train()
        #expect(trainer.network.parameterDictionary()["aug_level_mlp.3.weight"]!.value.scalars.contains { $0 != 0 })
    }

    @Test("The pair pool deals each block's pairs once, shuffled across batches, the same for a seed")
    func pairPool() throws {
        let dir = try makeTemporaryDirectory("diffsr-pool")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = try Self.setUp(steps: 1, output: dir + "/run")
        let d = configuration.data
        let sampler = try PatchSampler(folder: d.train, cropSize: d.cropSize, scale: 2, flatThreshold: d.flatThreshold,
                                       degradation: d.degradation, conditioning: d.conditioning)
        #expect(sampler.pairNumbers(ofBatch: 3, size: 4, seed: 1) == [12, 13, 14, 15])
        sampler.poolSize = 12
        let block = (0..<3).flatMap { sampler.pairNumbers(ofBatch: $0, size: 4, seed: 1) }
        #expect(block.sorted() == Array(0..<12))
        #expect(block != Array(0..<12))
        #expect(sampler.pairNumbers(ofBatch: 4, size: 4, seed: 1).allSatisfy { (12..<24).contains($0) })
        #expect(sampler.pairNumbers(ofBatch: 1, size: 4, seed: 1) == sampler.pairNumbers(ofBatch: 1, size: 4, seed: 1))
        #expect(block != (0..<3).flatMap { sampler.pairNumbers(ofBatch: $0, size: 4, seed: 2) })
        // A pooled batch holds exactly the pairs its numbers name, whichever batch made the block.
        let late = sampler.batch(2, size: 4, seed: 1), early = sampler.batch(0, size: 4, seed: 1)
        let expected = sampler.pairNumbers(ofBatch: 0, size: 4, seed: 1).map { sampler.pair($0, seed: 1) }
        #expect(early.highResolution.scalars == expected.flatMap(\.highResolution))
        #expect(late.condition.shape == [4, 16, 16, 3])
        // The configuration refuses a pool that batches do not divide.
        var bad = configuration
        bad.data.poolSize = 3
        #expect(throws: TrainingError.self) { try bad.validate() }
    }

    @Test("A cosine learning-rate schedule decays to its floor at the last step; bad schedules are refused")
    func cosineSchedule() throws {
        let dir = try makeTemporaryDirectory("diffsr-cosine")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = try String(contentsOfFile: Self.setUp(steps: 4, output: dir + "/run").output + ".json", encoding: .utf8)
        let cosine = json.replacingOccurrences(of: "\"ema_decay\": 0.9", with: "\"ema_decay\": 0.9, \"lr_schedule\": \"cosine\", \"lr_minimum_factor\": 0.1")
        try cosine.write(toFile: dir + "/cosine.json", atomically: true, encoding: .utf8)
        let configuration = try TrainingConfiguration(contentsOfFile: dir + "/cosine.json")
        try Trainer(configuration: configuration).train()
        let rates = try String(contentsOfFile: dir + "/run/log.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["learning_rate"] as? Double
        }
        // Warm-up over 2 steps, then 1e-3 · (0.1 + 0.9 · ½(1 + cos(π · (step − 2) / 2))).
        let expected = [0.5e-3, 1e-3, 0.55e-3, 0.1e-3]
        #expect(rates.count == 4)
        for (rate, want) in zip(rates, expected) { #expect(abs(rate - want) < 1e-8) }
        // Without lr_schedule the rate stays at the base after the warm-up.
        let constant = try TrainingConfiguration(contentsOfFile: dir + "/run.json").optimization.schedule(totalSteps: 4)
        #expect(constant.rate(at: 4, base: 1) == 1)
        let unknown = json.replacingOccurrences(of: "\"ema_decay\": 0.9", with: "\"ema_decay\": 0.9, \"lr_schedule\": \"linear\"")
        try unknown.write(toFile: dir + "/unknown.json", atomically: true, encoding: .utf8)
        #expect(throws: TrainingError.self) { try TrainingConfiguration(contentsOfFile: dir + "/unknown.json") }
        var floor = configuration
        floor.optimization.learningRateMinimumFactor = 2
        #expect(throws: TrainingError.self) { try floor.validate() }
    }

    @Test("Invalid configurations are refused with a reason")
    func invalidConfiguration() throws {
        let dir = try makeTemporaryDirectory("diffsr-config")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = try Self.setUp(steps: 1, output: dir + "/run")
        configuration.data.cropSize = 15
        #expect(throws: TrainingError.self) { try configuration.validate() }
        #expect(throws: TrainingError.self) { try TrainingConfiguration(contentsOfFile: dir + "/missing.json") }
    }
}
