import Foundation
import Testing
import SRImage
import _TestSupport

@Suite("diffsr convert, inspect, upscale", .tags(.cli), .serialized)
struct ModelCommandTests {
    @Test func convertInspectUpscale() throws {
        let dir = try makeTemporaryDirectory("diffsr-model")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pth = Fixtures.path("sr3/tiny_gen.pth"), config = Fixtures.path("sr3/tiny_config.json")
        // convert
        let converted = try CommandRunner.run(["convert", pth, "--model-config", config, "-o", "\(dir)/tiny.safetensors", "--dtype", "f16"])
        #expect(converted.status == 0, "\(converted.stderr)")
        // inspect shows the keys and the embedded description
        let inspected = try CommandRunner.run(["inspect", "\(dir)/tiny.safetensors"])
        #expect(inspected.status == 0)
        #expect(inspected.stdout.contains("noise_level_mlp.1.weight\t32x8\tF16"))
        #expect(inspected.stdout.contains("66907 parameters"))
        #expect(inspected.stdout.contains("metadata diffsr.model"))
        // upscale a 4x4 image ×4 with each sampler; the same seed gives the same bytes
        let low = Image(width: 5, height: 4, channels: 3, pixels: (0..<60).map { Float($0 % 17) / 16 })
        try low.write(toFile: "\(dir)/low.png")
        for sampler in ["ddpm", "ddim", "dpm-solver++"] {
            let result = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "\(dir)/tiny.safetensors",
                                                "--sampler", sampler, "--steps", "4", "--seed", "7", "-o", "\(dir)/\(sampler).png"])
            #expect(result.status == 0, "\(result.stderr)")
            let image = try Image(contentsOfFile: "\(dir)/\(sampler).png")
            #expect(image.width == 20 && image.height == 16)
        }
        // ×2 makes 10x8, not a multiple of the U-Net's 4: padded for the network, cropped back.
        let odd = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "\(dir)/tiny.safetensors", "--scale", "2",
                                         "--steps", "2", "-o", "\(dir)/odd.png"])
        #expect(odd.status == 0, "\(odd.stderr)")
        let oddImage = try Image(contentsOfFile: "\(dir)/odd.png")
        #expect(oddImage.width == 10 && oddImage.height == 8)
        // Tiled sampling and color correction on a larger input.
        try Image(width: 9, height: 7, channels: 3, pixels: (0..<189).map { Float($0 % 23) / 22 }).write(toFile: "\(dir)/wide.png")
        let tiled = try CommandRunner.run(["upscale", "\(dir)/wide.png", "--model", "\(dir)/tiny.safetensors", "--steps", "2",
                                           "--tile", "16", "--tile-overlap", "8", "--color-fix", "wavelet", "-o", "\(dir)/tiled.png"])
        #expect(tiled.status == 0, "\(tiled.stderr)")
        let tiledImage = try Image(contentsOfFile: "\(dir)/tiled.png")
        #expect(tiledImage.width == 36 && tiledImage.height == 28)
        // A shipped model by name (Models/ or $DIFFSR_MODELS).
        try FileManager.default.createDirectory(atPath: "\(dir)/models", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(dir)/tiny.safetensors", toPath: "\(dir)/models/tiny-x4.safetensors")
        let named = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "tiny-x4", "--steps", "2", "-o", "\(dir)/named.png"],
                                          environment: ["DIFFSR_MODELS": "\(dir)/models"])
        #expect(named.status == 0, "\(named.stderr)")
        // A model family names its ×4 model (--model sr3plus → sr3plus-x4).
        let family = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "tiny", "--steps", "2", "-o", "\(dir)/family.png"],
                                           environment: ["DIFFSR_MODELS": "\(dir)/models"])
        #expect(family.status == 0, "\(family.stderr)")
        #expect(try Image(contentsOfFile: "\(dir)/family.png") == Image(contentsOfFile: "\(dir)/named.png"))
        let unknown = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "nope", "-o", "\(dir)/nope.png"],
                                            environment: ["DIFFSR_MODELS": "\(dir)/models"])
        #expect(unknown.status != 0 && unknown.stderr.contains("available: ") && unknown.stderr.contains("tiny-x4"))
        let badTile = try CommandRunner.run(["upscale", "\(dir)/wide.png", "--model", "\(dir)/tiny.safetensors", "--tile", "18", "--tile-overlap", "4", "--steps", "2",
                                             "-o", "\(dir)/bad.png"])
        #expect(badTile.status != 0 && badTile.stderr.contains("multiple of 4"))
        let again = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", pth, "--model-config", config,
                                           "--sampler", "ddpm", "--steps", "4", "--seed", "7", "-o", "\(dir)/again.png"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/again.png")).count > 0)
        let first = try Image(contentsOfFile: "\(dir)/ddpm.png"), second = try Image(contentsOfFile: "\(dir)/again.png")
        // f16 weights vs the original f32 ones: close, not identical
        let difference = zip(first.levels(), second.levels()).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(difference <= 3)
    }

    @Test("convert --default-* records sampling defaults that upscale uses unless a flag overrides them")
    func recordedDefaults() throws {
        let dir = try makeTemporaryDirectory("diffsr-defaults")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pth = Fixtures.path("sr3/tiny_gen.pth"), config = Fixtures.path("sr3/tiny_config.json")
        let plain = try CommandRunner.run(["convert", pth, "--model-config", config, "-o", "\(dir)/plain.safetensors"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let inspectedPlain = try CommandRunner.run(["inspect", "\(dir)/plain.safetensors"])
        #expect(inspectedPlain.stdout.contains("sampling: ddim, 10 steps, color fix none (the tool's defaults)"))
        // Rewriting a safetensors file records the defaults.
        let recorded = try CommandRunner.run(["convert", "\(dir)/plain.safetensors", "-o", "\(dir)/recorded.safetensors",
                                              "--default-steps", "2", "--default-color-fix", "wavelet"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let inspected = try CommandRunner.run(["inspect", "\(dir)/recorded.safetensors"])
        #expect(inspected.stdout.contains("sampling: ddim, 2 steps, color fix wavelet (recorded: steps, color fix)"), "\(inspected.stdout)")
        try Image(width: 5, height: 4, channels: 3, pixels: (0..<60).map { Float($0 % 13) / 12 }).write(toFile: "\(dir)/low.png")
        func upscale(_ model: String, _ flags: [String], _ name: String) throws -> Image {
            let result = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", "\(dir)/\(model)", "--seed", "3"] + flags + ["-o", "\(dir)/\(name).png"])
            #expect(result.status == 0, "\(result.stderr)")
            return try Image(contentsOfFile: "\(dir)/\(name).png")
        }
        let byDefault = try upscale("recorded.safetensors", [], "default")
        #expect(byDefault == (try upscale("plain.safetensors", ["--steps", "2", "--color-fix", "wavelet"], "explicit")))
        // Flags override recorded defaults (the tiny model's 8-step schedule cannot take the tool's 10).
        let plainFour = try upscale("plain.safetensors", ["--steps", "4"], "plain4")
        #expect(byDefault != plainFour)
        #expect(try upscale("recorded.safetensors", ["--steps", "4", "--color-fix", "none"], "overridden") == plainFour)
        // --clear-defaults gives back the tool's defaults.
        let cleared = try CommandRunner.run(["convert", "\(dir)/recorded.safetensors", "-o", "\(dir)/cleared.safetensors", "--clear-defaults"])
        #expect(cleared.status == 0, "\(cleared.stderr)")
        #expect(try CommandRunner.run(["inspect", "\(dir)/cleared.safetensors"]).stdout.contains("(the tool's defaults)"))
        // Bad defaults are refused and nothing is written.
        let tooMany = try CommandRunner.run(["convert", "\(dir)/plain.safetensors", "-o", "\(dir)/bad.safetensors", "--default-steps", "9"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("exceeds the model's 8 training steps"), "\(tooMany.stderr)")
        let notBlind = try CommandRunner.run(["convert", "\(dir)/plain.safetensors", "-o", "\(dir)/bad.safetensors", "--default-aug-level", "0.1"])
        #expect(notBlind.status != 0 && notBlind.stderr.contains("without condition augmentation"))
        let zero = try CommandRunner.run(["convert", "\(dir)/plain.safetensors", "-o", "\(dir)/bad.safetensors", "--default-steps", "0"])
        #expect(zero.status != 0 && zero.stderr.contains("--default-steps"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/bad.safetensors"))
    }

    @Test func upscaleErrors() throws {
        let dir = try makeTemporaryDirectory("diffsr-model-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pth = Fixtures.path("sr3/tiny_gen.pth"), config = Fixtures.path("sr3/tiny_config.json")
        try Image(width: 4, height: 4, channels: 3).write(toFile: "\(dir)/low.png")
        let noConfig = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", pth, "-o", "\(dir)/x.png"])
        #expect(noConfig.status != 0 && noConfig.stderr.contains("--model-config"))
        let tooMany = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", pth, "--model-config", config, "--steps", "50", "-o", "\(dir)/x.png"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("exceeds"))
        let badSampler = try CommandRunner.run(["upscale", "\(dir)/low.png", "--model", pth, "--sampler", "euler", "-o", "\(dir)/x.png"])
        #expect(badSampler.status != 0)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.png"))
    }
}

@Suite("diffsr degrade", .tags(.cli))
struct DegradeCommandTests {
    @Test func degradeLogAndReplay() throws {
        let dir = try makeTemporaryDirectory("diffsr-degrade")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Image(contentsOfFile: Fixtures.path("niqe_photo.png")).cropped(x: 0, y: 0, width: 64, height: 48).write(toFile: "\(dir)/a.png")
        let first = try CommandRunner.run(["degrade", "\(dir)/a.png", "-o", "\(dir)/out1", "--preset", "realesrgan", "--scale", "4",
                                           "--seed", "3", "--params-log", "\(dir)/log.jsonl", "--save-target"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try folderContents("\(dir)/out1") == ["a.png", "a_target.png"])
        let replayed = try CommandRunner.run(["degrade", "\(dir)/a.png", "-o", "\(dir)/out2", "--replay", "\(dir)/log.jsonl"])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/out1/a.png")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/out2/a.png")))
        let preset = try CommandRunner.run(["degrade", "--preset", "stablesr", "--print-preset"])
        #expect(preset.status == 0 && preset.stdout.contains("\"final_sinc_prob\" : 0.8"))
        let bad = try CommandRunner.run(["degrade", "\(dir)/a.png", "-o", "\(dir)/out3", "--preset", "nope"])
        #expect(bad.status != 0 && bad.stderr.contains("unknown degradation preset"))
    }

    @Test func batchingChangesNothingButSpeed() throws {
        let dir = try makeTemporaryDirectory("diffsr-batch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let converted = try CommandRunner.run(["convert", Fixtures.path("sr3/tiny_gen.pth"), "--model-config", Fixtures.path("sr3/tiny_config.json"),
                                               "-o", "\(dir)/tiny.safetensors"])
        #expect(converted.status == 0, "\(converted.stderr)")
        try FileManager.default.createDirectory(atPath: "\(dir)/in", withIntermediateDirectories: true)
        // Two 5×4 images then a 6×4 one: batches of 2 hold the first two together.
        for (i, width) in [5, 5, 6].enumerated() {
            try Image(width: width, height: 4, channels: 3, pixels: (0..<(width * 12)).map { Float(($0 * (i + 3)) % 19) / 18 })
                .write(toFile: "\(dir)/in/img\(i).png")
        }
        for batch in ["1", "2"] {
            let result = try CommandRunner.run(["upscale", "\(dir)/in", "--model", "\(dir)/tiny.safetensors", "--sampler", "ddpm",
                                                "--steps", "3", "--batch", batch, "-o", "\(dir)/out\(batch)"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        for i in 0..<3 {
            let one = try Image(contentsOfFile: "\(dir)/out1/img\(i).png"), two = try Image(contentsOfFile: "\(dir)/out2/img\(i).png")
            #expect(one.width == two.width && one.height == 16)
            #expect(zip(one.pixels, two.pixels).allSatisfy { abs($0 - $1) <= 1.0 / 255 + 1e-6 }, "img\(i) differs between batch sizes")
        }
        // Different seeds per image: the two same-size images are not given the same noise.
        #expect(try Image(contentsOfFile: "\(dir)/out2/img0.png") != Image(contentsOfFile: "\(dir)/out2/img1.png"))
        // `--model default` (the default) takes the shipped SR3 model first; --side-by-side adds the comparison.
        try FileManager.default.createDirectory(atPath: "\(dir)/models", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(dir)/tiny.safetensors", toPath: "\(dir)/models/sr3-x4.safetensors")
        let byDefault = try CommandRunner.run(["upscale", "\(dir)/in/img0.png", "--steps", "2", "--side-by-side", "-o", "\(dir)/default.png"],
                                              environment: ["DIFFSR_MODELS": "\(dir)/models"])
        #expect(byDefault.status == 0, "\(byDefault.stderr)")
        #expect(byDefault.stderr.contains("model: \(dir)/models/sr3-x4.safetensors"))
        let comparison = try Image(contentsOfFile: "\(dir)/default_vs_bicubic.png")
        #expect(comparison.width == 20 + 4 + 20 && comparison.height == 16)
        let bad = try CommandRunner.run(["upscale", "\(dir)/in", "--model", "\(dir)/tiny.safetensors", "--batch", "0", "-o", "\(dir)/bad"])
        #expect(bad.status != 0 && bad.stderr.contains("--batch"))
    }
}
