import Foundation
import Testing
import SRImage
import _TestSupport

/// `diffsr upscale`, `convert` and `inspect` with StableSR's released file layout (the reduced
/// model of Tests/Fixtures/stablesr/e2e, written by Tools/golden/make_stablesr_e2e_fixtures.py).
@Suite("diffsr with StableSR", .tags(.cli), .serialized)
struct StableSRCommandTests {
    static func path(_ name: String) -> String { Fixtures.path("stablesr/e2e/" + name) }
    struct Reference: Decodable {
        struct Values: Decodable { let shape: [Int]; let values: [Float] }
        let output: Values
    }

    @Test("The issue's command line on the released layout reproduces the reference tile script (≥ 40 dB)")
    func upscaleReleasedLayout() throws {
        let dir = try makeTemporaryDirectory("diffsr-stablesr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try CommandRunner.run([
            "upscale", Self.path("lr.png"), "--output", "\(dir)/out.png", "--model", Self.path("sr.ckpt"),
            "--model-config", Self.path("sr.yaml"), "--cfw-model", Self.path("cfw.ckpt"), "--cfw-config", Self.path("cfw.yaml"),
            "--sampler", "ddpm", "--steps", "4", "--start", "condition", "--rng", "torch", "--seed", "42", "--dec-w", "0.5",
            "--color-fix", "adain", "--tile", "64", "--tile-overlap", "32", "--scale", "4", "--input-size", "64"])
        #expect(result.status == 0, "\(result.stderr)")
        let reference: Reference = try Fixtures.json("stablesr/e2e/reference.json")
        let output = try Image(contentsOfFile: "\(dir)/out.png")
        #expect([output.height, output.width, 3] == reference.output.shape)
        var sum = 0.0
        for (a, b) in zip(output.levels(), reference.output.values) { sum += pow(Double(a) - Double(b), 2) }
        let psnr = 10 * log10(255 * 255 / max(sum / Double(reference.output.values.count), 1e-12))
        #expect(psnr >= 40, "PSNR \(psnr) dB")
        #expect(result.stderr.contains("ddpm 4 steps, w 0.5, color fix adain"))
    }

    @Test("--memory-budget: --verbose prints the plan, a budget below the model's needs is refused with nothing written, a malformed size is rejected")
    func memoryBudget() throws {
        let dir = try makeTemporaryDirectory("diffsr-stablesr-budget")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = ["--model", Self.path("sr.ckpt"), "--model-config", Self.path("sr.yaml"), "--cfw-model", Self.path("cfw.ckpt"),
                     "--cfw-config", Self.path("cfw.yaml"), "--steps", "1", "--tile", "64", "--tile-overlap", "32", "--input-size", "64"]
        let verbose = try CommandRunner.run(["upscale", Self.path("lr.png"), "--output", "\(dir)/out.png", "--memory-budget", "4GiB", "--verbose"] + model)
        #expect(verbose.status == 0, "\(verbose.stderr)")
        #expect(verbose.stderr.contains("memory budget 4.0 GiB: pixel tile 1280 stride 1000, estimated peak"), "\(verbose.stderr)")
        let tiny = try CommandRunner.run(["upscale", Self.path("lr.png"), "--output", "\(dir)/tiny.png", "--memory-budget", "1MiB"] + model)
        #expect(tiny.status != 0 && tiny.stderr.contains("the memory budget 1 MiB is too small for this model"), "\(tiny.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/tiny.png"))
        let malformed = try CommandRunner.run(["upscale", Self.path("lr.png"), "--output", "\(dir)/bad.png", "--memory-budget", "8 gigs"] + model)
        #expect(malformed.status != 0 && malformed.stderr.contains("--memory-budget"), "\(malformed.stderr)")
        let root = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent().path
        let sr3 = try CommandRunner.run(["upscale", Self.path("lr.png"), "--output", "\(dir)/sr3.png", "--model", "regression",
                                         "--memory-budget", "4GiB"], environment: ["DIFFSR_MODELS": root + "/Models"])
        #expect(sr3.status != 0 && sr3.stderr.contains("--memory-budget applies to StableSR models"), "\(sr3.stderr)")
    }

    /// A 32² input at one step keeps it to seconds in the debug build of `make test` (the engine's
    /// modules are optimized there too, see Package.swift; measured 16 s for `inspect` and both upscales
    /// beside a training run on the two cores, where a fully unoptimized build took 4.5 min per upscale).
    @Test("The shipped stablesr-x4 upscales the bundled sample by name, with its recorded defaults; --dec-w changes the output")
    func shippedModel() throws {
        let dir = try makeTemporaryDirectory("diffsr-stablesr-shipped")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent().path
        let environment = ["DIFFSR_MODELS": root + "/Models"]
        let inspected = try CommandRunner.run(["inspect", root + "/Models/stablesr-x4.safetensors"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("family: StableSR (v-prediction)"))
        #expect(inspected.stdout.contains("sampling: ddim 20 steps, w 0.5, color fix wavelet"))
        // The sample's top-left 32² (one 16² latent tile at ×4, to keep the debug build quick).
        try Image(contentsOfFile: root + "/Samples/coffee.png").cropped(x: 0, y: 0, width: 32, height: 32).write(toFile: "\(dir)/lr.png")
        var outputs: [Image] = []
        for w in ["0", "1"] {
            let result = try CommandRunner.run(["upscale", "\(dir)/lr.png", "--model", "stablesr", "--steps", "1", "--dec-w", w,
                                                "-o", "\(dir)/w\(w).png"], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(try Image(contentsOfFile: "\(dir)/w\(w).png"))
        }
        let hr = try Image(contentsOfFile: root + "/Samples/coffee-hr.png").cropped(x: 0, y: 0, width: 128, height: 128)
        #expect(outputs.allSatisfy { $0.width == 128 && $0.height == 128 })
        #expect(outputs[0] != outputs[1])
        // Each result is the photo, not noise: at least 3 dB closer to the HR than its flat mean color.
        func mse(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(a.count) }
        var flat = hr.pixels
        for c in 0..<3 {
            let mean = stride(from: c, to: flat.count, by: 3).reduce(Float(0)) { $0 + hr.pixels[$1] } / Float(flat.count / 3)
            for i in stride(from: c, to: flat.count, by: 3) { flat[i] = mean }
        }
        for output in outputs { #expect(mse(output.pixels, hr.pixels) < mse(flat, hr.pixels) / 2) }
    }

    @Test("convert writes one safetensors file that inspect describes")
    func convertAndInspect() throws {
        let dir = try makeTemporaryDirectory("diffsr-stablesr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let converted = try CommandRunner.run([
            "convert", Self.path("sr.ckpt"), "--model-config", Self.path("sr.yaml"), "--cfw-model", Self.path("cfw.ckpt"),
            "--cfw-config", Self.path("cfw.yaml"), "-o", "\(dir)/model.safetensors", "--default-steps", "20", "--default-dec-w", "0.7"])
        #expect(converted.status == 0, "\(converted.stderr)")
        #expect(converted.stderr.contains("CFW sharing the first stage's weights"))
        let inspected = try CommandRunner.run(["inspect", "\(dir)/model.safetensors"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        #expect(inspected.stdout.contains("context\t1x77x64\tF16"))
        #expect(inspected.stdout.contains("family: StableSR (eps-prediction)"))
        #expect(inspected.stdout.contains("sampling: ddpm 20 steps, w 0.7, color fix adain"))
        // The released checkpoint itself is listed from its pickle alone (its optimizer storages are absent).
        let listed = try CommandRunner.run(["inspect", Self.path("sr.ckpt")])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("model.diffusion_model.input_blocks.1.0.spade.mlp_shared.0.weight\t128x32x3x3"))
    }

    @Test("Bad StableSR inputs: a clear error, non-zero exit, no output", .tags(.badInput))
    func badInputs() throws {
        let dir = try makeTemporaryDirectory("diffsr-stablesr-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = "\(dir)/out.png"
        func run(model: String, config: String, cfw: String, cfwConfig: String, extra: [String] = []) throws -> CommandResult {
            try CommandRunner.run(["upscale", Self.path("lr.png"), "-o", output, "--model", model, "--model-config", config,
                                   "--cfw-model", cfw, "--cfw-config", cfwConfig, "--steps", "1"] + extra)
        }
        // A checkpoint whose keys do not match its YAML (the YAML of other, smaller networks).
        var result = try run(model: Self.path("sr.ckpt"), config: Fixtures.path("stablesr/tiny.yaml"), cfw: Self.path("cfw.ckpt"),
                             cfwConfig: Self.path("cfw.yaml"))
        #expect(result.status != 0 && result.stderr.contains("does not match its configuration"), "\(result.stderr)")
        // A truncated checkpoint.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.path("sr.ckpt")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(dir)/truncated.ckpt"))
        result = try run(model: "\(dir)/truncated.ckpt", config: Self.path("sr.yaml"), cfw: Self.path("cfw.ckpt"), cfwConfig: Self.path("cfw.yaml"))
        #expect(result.status != 0 && result.stderr.contains("truncated.ckpt"), "\(result.stderr)")
        // A CFW checkpoint of another width than its YAML says.
        let wide = try String(contentsOfFile: Self.path("cfw.yaml"), encoding: .utf8).replacingOccurrences(of: "ch: 32", with: "ch: 64")
        try wide.write(toFile: "\(dir)/wide_cfw.yaml", atomically: true, encoding: .utf8)
        result = try run(model: Self.path("sr.ckpt"), config: Self.path("sr.yaml"), cfw: Self.path("cfw.ckpt"), cfwConfig: "\(dir)/wide_cfw.yaml")
        #expect(result.status != 0 && result.stderr.contains("CFW autoencoder does not match"), "\(result.stderr)")
        // A hostile pickle: refused, nothing executed.
        let marker = "\(dir)/pwned"
        result = try run(model: Fixtures.path("checkpoints/hostile.pth"), config: Self.path("sr.yaml"), cfw: Self.path("cfw.ckpt"),
                         cfwConfig: Self.path("cfw.yaml"))
        #expect(result.status != 0 && result.stderr.contains("os.system") && result.stderr.contains("nothing was executed"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
        // The CFW checkpoint missing.
        result = try CommandRunner.run(["upscale", Self.path("lr.png"), "-o", output, "--model", Self.path("sr.ckpt"),
                                        "--model-config", Self.path("sr.yaml")])
        #expect(result.status != 0 && result.stderr.contains("--cfw-model"), "\(result.stderr)")
        // An out-of-range CFW weight.
        result = try run(model: Self.path("sr.ckpt"), config: Self.path("sr.yaml"), cfw: Self.path("cfw.ckpt"), cfwConfig: Self.path("cfw.yaml"),
                         extra: ["--dec-w", "1.5"])
        #expect(result.status != 0 && result.stderr.contains("--dec-w"), "\(result.stderr)")
        #expect(try folderContents(dir).allSatisfy { !$0.hasPrefix("out") })
    }
}
