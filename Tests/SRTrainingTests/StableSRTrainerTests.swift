import Foundation
import Testing
import SRCheckpoint
import SRImage
import SRModels
import SRNN
import SRPipelines
import SRTensor
@testable import SRTraining
import _TestSupport

/// StableSR's training stages on TAEF2 latents (tiny networks, synthetic photos).
@Suite("StableSR training", .serialized)
struct StableSRTrainerTests {
    static let models = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models").path

    /// A temporary data set of smooth synthetic photos and a tiny prior configuration.
    static func setUp(steps: Int, output: String, unet: String? = nil, cropSize: Int = 32, stage: String = "prior",
                      extra: String = "", validateEvery: Int = 3) throws -> StableSRTrainingConfiguration {
        let root = output + "-data"
        for split in ["train", "val"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(split)", withIntermediateDirectories: true)
            for i in 0..<2 {
                var image = Image(width: 48, height: 40, channels: 3)
                for y in 0..<40 { for x in 0..<48 { for c in 0..<3 {
                    image[y, x, c] = 0.5 + 0.4 * Float(sin(Double(x * (i + 1) + y * 2 + c * 5) / 4.0))
                } } }
                try image.write(toFile: "\(root)/\(split)/img\(i).png")
            }
        }
        let network = unet ?? """
            {"in_channels": 32, "out_channels": 32, "model_channels": 32, "num_res_blocks": 1, "attention_resolutions": [2],
             "channel_mult": [1, 2], "num_head_channels": 16, "context_dim": 16, "semb_channels": 0, "legacy": false}
            """
        let json = """
        {"name": "tiny-\(stage)", "stage": "\(stage)", "scale": 4, "unet": \(network), \(extra)
         "autoencoder": {"configuration": {"latent_channels": 32, "midblock_gn": true, "width": 64},
                         "encoder": "\(models)/taef2/taef2_encoder.pth", "decoder": "\(models)/taef2/taef2_decoder.pth"},
         "context_length": 2, "parameterization": "v", "linear_start": 0.00085, "linear_end": 0.012, "timesteps": 1000,
         "latent_scale": 1.37,
         "data": {"train": "\(root)/train", "validation": "\(root)/val", "crop_size": \(cropSize), "batch_size": 2, "flat_threshold": 0.01,
                  "degradation": "matlab-bicubic", "conditioning": "matlab-bicubic", "validation_count": 1\(stage == "encoder" ? stage1Data : "")},
         "optimization": {"learning_rate": 1e-3, "weight_decay": 0.01, "warmup_steps": 1, "gradient_clip": 1.0, "ema_decay": 0.9},
         "steps": \(steps), "log_every": 1, "validate_every": \(validateEvery), "checkpoint_every": 3, "validation_sampler_steps": 2,
         "seed": 7, "output": "\(output)"}
        """
        try json.write(toFile: output + ".json", atomically: true, encoding: .utf8)
        return try StableSRTrainingConfiguration(contentsOfFile: output + ".json")
    }

    static let stage1Data = #", "degradation_model": "stablesr", "clean_probability": 0.5"#
    static let stage1UNet = """
        {"in_channels": 32, "out_channels": 32, "model_channels": 32, "num_res_blocks": 1, "attention_resolutions": [2],
         "channel_mult": [1, 2], "num_head_channels": 16, "context_dim": 16, "semb_channels": 32, "legacy": false}
        """

    /// A stage-1 configuration on the prior of a 2-step stage-0 run.
    static func setUpStage1(steps: Int, output: String, prior: String) throws -> StableSRTrainingConfiguration {
        let extra = """
            "time_aware_encoder": {"in_channels": 32, "model_channels": 32, "out_channels": 32, "num_res_blocks": 1,
                                   "attention_resolutions": [], "channel_mult": [1, 2], "num_heads": 1},
            "initialize_from": "\(prior)", "defaults": {"steps": 2},
            """
        return try setUp(steps: steps, output: output, unet: stage1UNet, stage: "encoder", extra: extra, validateEvery: 100)
    }

    /// A stage-2 configuration on a stage-1 model.
    static func setUpStage2(steps: Int, output: String, stage1: String, discriminatorStart: Int) throws -> StableSRTrainingConfiguration {
        let extra = """
            "time_aware_encoder": {"in_channels": 32, "model_channels": 32, "out_channels": 32, "num_res_blocks": 1,
                                   "attention_resolutions": [], "channel_mult": [1, 2], "num_heads": 1},
            "initialize_from": "\(stage1)",
            "cfw": {"pairs": 4, "validation_pairs": 1, "folder": "\(output)-pairs", "sampler_steps": 2, "edge_weight": 1,
                    "adversarial_weight": 0.025, "discriminator_start": \(discriminatorStart), "default_dec_w": 0.5},
            """
        var c = try setUp(steps: steps, output: output, unet: stage1UNet, stage: "encoder", extra: extra, validateEvery: 100)
        c.stage = .cfw
        try c.validate()
        return c
    }

    func weights(_ module: Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.path, $0.parameter.value.scalars) })
    }

    @Test("The shipped stage-0 configuration is valid and is recognized as StableSR's")
    func committedConfiguration() throws {
        let path = URL(fileURLWithPath: Self.models).deletingLastPathComponent().appendingPathComponent("Configs/stablesr-x4-prior.json").path
        #expect(StableSRTrainingConfiguration.isStableSR(contentsOfFile: path))
        let c = try StableSRTrainingConfiguration(contentsOfFile: path)
        #expect(c.stage == .prior && !c.unet.hasStructureConditioning && c.unet.inChannels == 32)
        let sr3 = URL(fileURLWithPath: Self.models).deletingLastPathComponent().appendingPathComponent("Configs/sr3-x4-small.json").path
        #expect(!StableSRTrainingConfiguration.isStableSR(contentsOfFile: sr3))
        // The stage-1, ablation and stage-2 configurations of the shipped model parse and validate.
        let configs = URL(fileURLWithPath: Self.models).deletingLastPathComponent().appendingPathComponent("Configs").path
        let stage1 = try StableSRTrainingConfiguration(contentsOfFile: configs + "/stablesr-x4-encoder.json")
        #expect(stage1.stage == .encoder && stage1.timeAwareEncoder?.timeInput == true)
        let ablation = try StableSRTrainingConfiguration(contentsOfFile: configs + "/stablesr-x4-encoder-no-time.json")
        #expect(ablation.timeAwareEncoder?.timeInput == false && ablation.data == stage1.data && ablation.unet == stage1.unet)
        // The ablation starts from the shipped model's prior, which fits its configuration.
        let root = URL(fileURLWithPath: configs).deletingLastPathComponent().path
        #expect(ablation.initializeFrom == "Models/stablesr-x4.safetensors")
        var expected = LatentPriorDescription(ablation)
        expected.unet.sembChannels = 0
        #expect(try LatentPriorDescription.read(contentsOfFile: root + "/" + ablation.initializeFrom!).0 == expected)
        let stage2 = try StableSRTrainingConfiguration(contentsOfFile: configs + "/stablesr-x4-cfw.json")
        #expect(stage2.stage == .cfw && stage2.cfw != nil && stage2.initializeFrom == stage1.output + "/model.safetensors")
    }

    @Test("Steps on one batch lower its loss; TAEF2 stays as loaded")
    func stepsLowerTheLoss() throws {
        let dir = try makeTemporaryDirectory("diffsr-prior")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try StableSRTrainer(configuration: try Self.setUp(steps: 10, output: dir + "/run"))
        let autoencoderBefore = weights(trainer.autoencoder)
        var optimizer = Adam.adamW(learningRate: 2e-3, weightDecay: 0)
        let (first, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        for _ in 0..<8 {
            let (_, gradients) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
            #expect(Set(gradients.keys) == Set(trainer.denoiser.namedParameters().map(\.path)))
            optimizer.update(trainer.denoiser, gradients: gradients)
        }
        let (last, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        #expect(last < first * 0.9, "loss \(first) → \(last)")
        #expect(weights(trainer.autoencoder) == autoencoderBefore)
    }

    @Test("A run logs, validates, exports a readable prior; resuming continues exactly")
    func runAndResume() throws {
        let dir = try makeTemporaryDirectory("diffsr-prior-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try StableSRTrainer(configuration: try Self.setUp(steps: 4, output: dir + "/a"))
        try straight.train()
        let log = try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 6)   // 4 steps + validations after steps 3 and 4
        let validation = try JSONSerialization.jsonObject(with: Data(log.last!.utf8)) as! [String: Any]
        #expect((validation["validation_loss"] as? Double).map { $0.isFinite && $0 > 0 } == true)
        #expect(FileManager.default.fileExists(atPath: dir + "/a/samples/step4_1.png"))
        let (description, exported) = try LatentPriorDescription.read(contentsOfFile: dir + "/a/model.safetensors")
        #expect(description == LatentPriorDescription(straight.configuration))
        #expect(exported.mapValues(\.scalars) == straight.loop.ema.shadow.mapValues(\.scalars))
        #expect(exported["context"]?.shape == [1, 2, 16] && exported.keys.contains("model.diffusion_model.out.2.weight"))

        var first = try Self.setUp(steps: 2, output: dir + "/b")
        try StableSRTrainer(configuration: first).train()
        first.steps = 4
        let resumed = try StableSRTrainer(configuration: first, resumeFrom: dir + "/b/checkpoint.safetensors")
        #expect(resumed.step == 2)
        try resumed.train()
        #expect(weights(resumed.denoiser) == weights(straight.denoiser))
        #expect(resumed.loop.ema.shadow.mapValues(\.scalars) == straight.loop.ema.shadow.mapValues(\.scalars))
    }

    @Test("Stage 1: only the time-aware encoder and SPADE learn on the frozen prior; the export upscales; resume is exact")
    func stage1() throws {
        let dir = try makeTemporaryDirectory("diffsr-stage1")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try StableSRTrainer(configuration: try Self.setUp(steps: 2, output: dir + "/prior")).train()
        let prior = dir + "/prior/model.safetensors"
        let (_, priorWeights) = try LatentPriorDescription.read(contentsOfFile: prior)

        // The prior's weights are loaded; only the encoder and SPADE are trainable.
        let trainer = try StableSRTrainer(configuration: try Self.setUpStage1(steps: 4, output: dir + "/a", prior: prior))
        let before = weights(trainer.denoiser)
        for (path, values) in priorWeights { #expect(before[path] == values.scalars, "\(path) is the prior's") }
        let trainable = Set(trainer.denoiser.trainableParameters().map(\.path))
        #expect(!trainable.isEmpty && trainable.allSatisfy { $0.hasPrefix("structcond_stage_model.") || $0.contains(".spade.") })
        #expect(trainable.contains { $0.contains(".spade.") } && trainable.contains { $0.hasPrefix("structcond_stage_model.") })

        // Steps on one batch lower its loss and change only the trainable parameters.
        var optimizer = Adam.adamW(learningRate: 2e-3, weightDecay: 0)
        let (first, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        for _ in 0..<5 {
            let (_, gradients) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
            #expect(Set(gradients.keys) == trainable)
            optimizer.update(trainer.denoiser, gradients: gradients)
        }
        let (last, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        #expect(last < first, "loss \(first) → \(last)")
        let after = weights(trainer.denoiser)
        for (path, values) in before where !trainable.contains(path) { #expect(after[path] == values, "\(path) moved") }
        #expect(trainable.contains { after[$0] != before[$0] })

        // A run exports a StableSR model that diffsr upscale can use, with the recorded defaults.
        let straight = try StableSRTrainer(configuration: try Self.setUpStage1(steps: 4, output: dir + "/b", prior: prior))
        try straight.train()
        let model = try StableSRModel(contentsOfFile: dir + "/b/model.safetensors")
        #expect(model.defaults.steps == 2 && model.defaults.inputSize == 32 && model.defaults.sampler == .ddim)
        #expect(model.configuration.autoencoder == .tiny(.taef2))
        var lr = Image(width: 8, height: 12, channels: 3)
        for i in lr.pixels.indices { lr.pixels[i] = Float(i % 7) / 7 }
        let sr = try StableSRUpscaler(model: model).upscale(lr, seed: 1)
        #expect(sr.width == 32 && sr.height == 48)

        // Stage 1 can start from that model file alone (as from a shipped model): its U-Net without
        // SPADE and its context are the prior, the SPADE layers and the encoder start fresh.
        // The export stores fp16, so the prior comes back rounded to fp16 (the EMA passes frozen
        // parameters through unchanged).
        let (fromModel, modelWeights) = try LatentPriorDescription.read(contentsOfFile: dir + "/b/model.safetensors")
        #expect(fromModel == (try LatentPriorDescription.read(contentsOfFile: prior)).0)
        #expect(Set(modelWeights.keys) == Set(priorWeights.keys))
        let rounded = priorWeights.mapValues { $0.scalars.map { Float(Float16($0)) } }
        #expect(rounded.allSatisfy { modelWeights[$0.key]?.scalars == $0.value }, "the model's prior is the fp16-rounded prior")
        let restarted = weights(try StableSRTrainer(configuration: try Self.setUpStage1(steps: 4, output: dir + "/d",
                                                                                       prior: dir + "/b/model.safetensors")).denoiser)
        #expect(restarted.allSatisfy { (modelWeights[$0.key]?.scalars ?? before[$0.key]) == $0.value }, "prior from the model, SPADE and encoder fresh")

        // Resume continues exactly.
        var part = try Self.setUpStage1(steps: 2, output: dir + "/c", prior: prior)
        try StableSRTrainer(configuration: part).train()
        part.steps = 4
        let resumed = try StableSRTrainer(configuration: part, resumeFrom: dir + "/c/checkpoint.safetensors")
        try resumed.train()
        #expect(weights(resumed.denoiser) == weights(straight.denoiser))
    }

    @Test("Stage 2: pairs generated once; only the fusion layers and the discriminator learn; the export records w")
    func stage2() throws {
        let dir = try makeTemporaryDirectory("diffsr-stage2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try StableSRTrainer(configuration: try Self.setUp(steps: 1, output: dir + "/prior")).train()
        try StableSRTrainer(configuration: try Self.setUpStage1(steps: 1, output: dir + "/s1", prior: dir + "/prior/model.safetensors")).train()
        let stage1 = dir + "/s1/model.safetensors"

        var progress: [Int] = []
        let trainer = try CFWTrainer(configuration: try Self.setUpStage2(steps: 3, output: dir + "/a", stage1: stage1, discriminatorStart: 0),
                                     pairProgress: { done, _ in progress.append(done) })
        #expect(progress == [1, 2, 3, 4])
        let pair = try SafeTensorsFile(contentsOfFile: dir + "/a-pairs/pair_0.safetensors")
        #expect(try pair.tensor("latent").shape == [1, 4, 4, 32] && pair.tensor("condition").shape == [1, 32, 32, 3])
        let modified = try FileManager.default.attributesOfItem(atPath: dir + "/a-pairs/pair_2.safetensors")[.modificationDate] as? Date
        _ = try CFWTrainer(configuration: try Self.setUpStage2(steps: 3, output: dir + "/a", stage1: stage1, discriminatorStart: 0))
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/a-pairs/pair_2.safetensors")[.modificationDate] as? Date == modified)

        // With the adversarial term: gradients reach exactly the fusion layers and the discriminator.
        let trainable = Set(trainer.trainee.trainableParameters().map(\.path))
        #expect(trainable.allSatisfy { $0.hasPrefix("cfw.decoder.fusion_layer_") || $0.hasPrefix("discriminator.") })
        let (loss, gradients) = try withTrainingMode(true) { try trainer.lossAndGradients(step: 0) }
        #expect(loss.isFinite && Set(gradients.keys) == trainable)

        // Without it, steps on one batch lower the reconstruction loss and move only the fusion layers.
        let plain = try CFWTrainer(configuration: try Self.setUpStage2(steps: 3, output: dir + "/b", stage1: stage1, discriminatorStart: 1000))
        let before = weights(plain.trainee)
        var optimizer = Adam.adamW(learningRate: 2e-3, weightDecay: 0)
        let (first, _) = try withTrainingMode(true) { try plain.lossAndGradients(step: 0) }
        for _ in 0..<4 {
            let (_, g) = try withTrainingMode(true) { try plain.lossAndGradients(step: 0) }
            optimizer.update(plain.trainee, gradients: g)
        }
        let (last, _) = try withTrainingMode(true) { try plain.lossAndGradients(step: 0) }
        #expect(last < first, "loss \(first) → \(last)")
        let after = weights(plain.trainee)
        for (path, values) in before where !path.hasPrefix("cfw.decoder.fusion_layer_") { #expect(after[path] == values, "\(path) moved") }

        // A run exports the stage-1 model with the trained fusion layers and w recorded.
        try plain.train()
        let model = try StableSRModel(contentsOfFile: dir + "/b/model.safetensors")
        #expect(model.defaults.decoderWeight == 0.5)
        let fusion = model.cfw.parameterDictionary().filter { $0.key.hasPrefix("decoder.fusion_layer_") }
        for (path, parameter) in fusion {
            #expect(maxAbsoluteDifference(parameter.value.scalars, plain.loop.ema.shadow["cfw." + path]!.scalars.map(Double.init)) < 1e-2)
        }
        let log = try String(contentsOfFile: dir + "/b/log.jsonl", encoding: .utf8)
        #expect(log.contains("psnr_y_w0"))
    }

    @Test("Bad configurations are refused with a reason")
    func badConfigurations() throws {
        let dir = try makeTemporaryDirectory("diffsr-prior-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let spade = """
            {"in_channels": 32, "out_channels": 32, "model_channels": 32, "num_res_blocks": 1, "attention_resolutions": [2],
             "channel_mult": [1, 2], "num_head_channels": 16, "context_dim": 16, "semb_channels": 32}
            """
        #expect(message { _ = try Self.setUp(steps: 1, output: dir + "/a", unet: spade) }.contains("semb_channels 0"))
        let fourChannels = spade.replacingOccurrences(of: "32, \"out_channels\": 32", with: "4, \"out_channels\": 4")
            .replacingOccurrences(of: "\"semb_channels\": 32", with: "\"semb_channels\": 0")
        #expect(message { _ = try Self.setUp(steps: 1, output: dir + "/b", unet: fourChannels) }.contains("latent channels (32)"))
        #expect(message { _ = try Self.setUp(steps: 1, output: dir + "/c", cropSize: 24) }.contains("crop_size 24"))
    }
}
