import Foundation
import Testing
import SRCheckpoint
import SRImage
import SRModels
import SRNN
import SRTensor
@testable import SRTraining
import _TestSupport

/// StableSR stage 0: the latent prior on TAEF2 latents (tiny U-Net, synthetic photos).
@Suite("StableSR stage prior", .serialized)
struct LatentPriorTrainerTests {
    static let models = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models").path

    /// A temporary data set of smooth synthetic photos and a tiny prior configuration.
    static func setUp(steps: Int, output: String, unet: String? = nil, cropSize: Int = 32) throws -> StableSRTrainingConfiguration {
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
        {"name": "tiny-prior", "stage": "prior", "scale": 4, "unet": \(network),
         "autoencoder": {"configuration": {"latent_channels": 32, "midblock_gn": true, "width": 64},
                         "encoder": "\(models)/taef2/taef2_encoder.pth", "decoder": "\(models)/taef2/taef2_decoder.pth"},
         "context_length": 2, "parameterization": "v", "linear_start": 0.00085, "linear_end": 0.012, "timesteps": 1000,
         "latent_scale": 1.37,
         "data": {"train": "\(root)/train", "validation": "\(root)/val", "crop_size": \(cropSize), "batch_size": 2, "flat_threshold": 0.01,
                  "degradation": "matlab-bicubic", "conditioning": "matlab-bicubic", "validation_count": 1},
         "optimization": {"learning_rate": 1e-3, "weight_decay": 0.01, "warmup_steps": 1, "gradient_clip": 1.0, "ema_decay": 0.9},
         "steps": \(steps), "log_every": 1, "validate_every": 3, "checkpoint_every": 3, "validation_sampler_steps": 2,
         "seed": 7, "output": "\(output)"}
        """
        try json.write(toFile: output + ".json", atomically: true, encoding: .utf8)
        return try StableSRTrainingConfiguration(contentsOfFile: output + ".json")
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
    }

    @Test("Steps on one batch lower its loss; TAEF2 stays as loaded")
    func stepsLowerTheLoss() throws {
        let dir = try makeTemporaryDirectory("diffsr-prior")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainer = try LatentPriorTrainer(configuration: try Self.setUp(steps: 10, output: dir + "/run"))
        let autoencoderBefore = weights(trainer.autoencoder)
        var optimizer = Adam.adamW(learningRate: 2e-3, weightDecay: 0)
        let (first, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        for _ in 0..<8 {
            let (_, gradients) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
            #expect(Set(gradients.keys) == Set(trainer.prior.namedParameters().map(\.path)))
            optimizer.update(trainer.prior, gradients: gradients)
        }
        let (last, _) = withTrainingMode(true) { trainer.lossAndGradients(step: 0) }
        #expect(last < first * 0.9, "loss \(first) → \(last)")
        #expect(weights(trainer.autoencoder) == autoencoderBefore)
    }

    @Test("A run logs, validates, exports a readable prior; resuming continues exactly")
    func runAndResume() throws {
        let dir = try makeTemporaryDirectory("diffsr-prior-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try LatentPriorTrainer(configuration: try Self.setUp(steps: 4, output: dir + "/a"))
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
        try LatentPriorTrainer(configuration: first).train()
        first.steps = 4
        let resumed = try LatentPriorTrainer(configuration: first, resumeFrom: dir + "/b/checkpoint.safetensors")
        #expect(resumed.step == 2)
        try resumed.train()
        #expect(weights(resumed.prior) == weights(straight.prior))
        #expect(resumed.loop.ema.shadow.mapValues(\.scalars) == straight.loop.ema.shadow.mapValues(\.scalars))
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
