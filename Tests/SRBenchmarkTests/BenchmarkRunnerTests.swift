import Foundation
import Testing
import SRBenchmark
import SRPipelines
import SRDegradation
import SRImage
import SRMetrics
import _TestSupport

/// A small deterministic suite: smooth-plus-texture HR images and their MATLAB-bicubic LR.
func syntheticSuite(count: Int = 2, size: Int = 24, scale: Int = 4) -> BenchmarkSuite {
    let items = (0..<count).map { index -> BenchmarkSuite.Item in
        var pixels = [Float](repeating: 0, count: size * size * 3)
        for y in 0..<size { for x in 0..<size { for c in 0..<3 {
            pixels[(y * size + x) * 3 + c] = 0.5 + 0.3 * sin(Float(x + index) * 0.7 + Float(c)) * cos(Float(y) * 0.45)
        } } }
        let hr = Image(width: size, height: size, channels: 3, pixels: pixels).quantized()
        let lr = hr.resized(width: size / scale, height: size / scale, method: .matlabBicubic).clipped().quantized()
        return BenchmarkSuite.Item(name: "image\(index)", highResolution: hr, lowResolution: lr)
    }
    return BenchmarkSuite(name: "synthetic", scale: scale, items: items, lowResolutionSource: "test")
}

@Suite("Benchmark runner", .tags(.report))
struct BenchmarkRunnerTests {
    @Test func scoresMatchTheMetricsAndTheCacheIsReused() throws {
        let dir = try makeTemporaryDirectory("benchmark-runner")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let suite = syntheticSuite()
        let methods = [BenchmarkMethod(name: "bicubic", kind: .resize(.pilBicubic)), BenchmarkMethod(name: "nearest", kind: .resize(.nearest))]
        let runner = BenchmarkRunner(suite: suite, methods: methods, cacheFolder: dir, metrics: ["psnr", "ssim", "consistency"], niqe: nil)
        let results = try runner.run(command: "test")
        #expect(results.methods.map(\.name) == ["bicubic", "nearest"])
        for (m, method) in results.methods.enumerated() {
            let resize: ResizeMethod = m == 0 ? .pilBicubic : .nearest
            for (i, item) in suite.items.enumerated() {
                let expected = item.lowResolution.resized(width: 24, height: 24, method: resize).clipped().quantized()
                let psnr = try PSNR(channel: .y, cropBorder: 4)(expected, reference: item.highResolution)
                #expect(abs(method.images[i].scores.psnr! - psnr) < 1e-9)
                #expect(method.images[i].scores.ssim! > 0 && method.images[i].scores.ssim! <= 1)
                #expect(method.images[i].scores.niqe == nil)
            }
            #expect(abs(method.mean.psnr! - (method.images[0].scores.psnr! + method.images[1].scores.psnr!) / 2) < 1e-12)
            #expect(method.secondsPerImage! >= 0)
        }
        // Bicubic beats nearest on smooth content.
        #expect(results.methods[0].mean.psnr! > results.methods[1].mean.psnr!)
        // A second run reads the cached outputs and their recorded times.
        let cachedFile = "\(dir)/bicubic/image0.png"
        let before = try FileManager.default.attributesOfItem(atPath: cachedFile)[.modificationDate] as! Date
        let again = try runner.run(command: "test")
        let after = try FileManager.default.attributesOfItem(atPath: cachedFile)[.modificationDate] as! Date
        #expect(before == after)
        #expect(again.methods[0].secondsPerImage == results.methods[0].secondsPerImage)
        #expect(again.methods[0].mean == results.methods[0].mean)
        // A different suite (other LR source) invalidates that method's cache.
        var changed = suite
        changed.lowResolutionSource = "other"
        _ = try BenchmarkRunner(suite: changed, methods: [methods[0]], cacheFolder: dir, metrics: ["psnr"], niqe: nil).run(command: "test")
        let record = try String(contentsOfFile: "\(dir)/bicubic/run.json", encoding: .utf8)
        #expect(record.contains("lr=other"))
        // So do different LR pixels under the same description (e.g. a degradation whose code changed).
        var altered = changed
        altered.items[0].lowResolution.pixels[0] = altered.items[0].lowResolution.pixels[0] == 0 ? 1 : 0
        #expect(altered.lowResolutionDigest != changed.lowResolutionDigest)
        let stale = try Image(contentsOfFile: cachedFile)
        _ = try BenchmarkRunner(suite: altered, methods: [methods[0]], cacheFolder: dir, metrics: ["psnr"], niqe: nil).run(command: "test")
        #expect(try Image(contentsOfFile: cachedFile) != stale)
        #expect(try String(contentsOfFile: "\(dir)/bicubic/run.json", encoding: .utf8).contains("lr-digest=\(altered.lowResolutionDigest)"))
    }

    @Test func cancellationKeepsFinishedOutputsForResume() throws {
        let dir = try makeTemporaryDirectory("benchmark-cancel")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let suite = syntheticSuite(count: 3)
        let runner = BenchmarkRunner(suite: suite, methods: [BenchmarkMethod(name: "lanczos", kind: .resize(.pilLanczos))],
                                     cacheFolder: dir, metrics: ["psnr"], niqe: nil)
        #expect(throws: BenchmarkRunner.Cancelled.self) {
            _ = try runner.run(command: "test", progress: { _, done, _ in done < 2 })   // 0 at the start, then per image
        }
        #expect(FileManager.default.fileExists(atPath: "\(dir)/lanczos/image1.png"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/lanczos/image2.png"))
        var produced = 0
        let results = try runner.run(command: "test", progress: { _, done, _ in produced = done; return true })
        #expect(produced == 3 && results.methods[0].images.count == 3)
    }

    @Test func externalOutputsAreReadAndCheckedBySize() throws {
        let dir = try makeTemporaryDirectory("benchmark-external")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let suite = syntheticSuite()
        try FileManager.default.createDirectory(atPath: "\(dir)/ext", withIntermediateDirectories: true)
        for item in suite.items { try item.highResolution.write(toFile: "\(dir)/ext/\(item.name).png") }
        let runner = BenchmarkRunner(suite: suite, methods: [BenchmarkMethod(name: "oracle", kind: .external(folder: "\(dir)/ext"))],
                                     cacheFolder: "\(dir)/cache", metrics: ["psnr", "consistency"], niqe: nil)
        let results = try runner.run(command: "test")
        #expect(results.methods[0].mean.psnr == .infinity)
        #expect(results.methods[0].secondsPerImage == nil)
        try Data("{\"image\": \"image0\", \"seconds\": 0.5}\n{\"image\": \"image1\", \"seconds\": 1.5}\n".utf8)
            .write(to: URL(fileURLWithPath: "\(dir)/ext/timings.jsonl"))
        #expect(try runner.run(command: "test").methods[0].secondsPerImage == 1.0)
        try Image(width: 8, height: 8, channels: 3).write(toFile: "\(dir)/ext/image1.png")
        #expect { _ = try runner.run(command: "test") } throws: { "\($0)".contains("expected 24x24") }
    }

    @Test func suitesPairByStemAndCheckSizes() throws {
        let dir = try makeTemporaryDirectory("benchmark-suite")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for sub in ["HR", "LR"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true) }
        let suite = syntheticSuite()
        for item in suite.items {
            try item.highResolution.write(toFile: "\(dir)/HR/\(item.name).png")
            try item.lowResolution.write(toFile: "\(dir)/LR/\(item.name).png")
        }
        let paired = try BenchmarkSuite.paired(name: "x", highResolution: "\(dir)/HR", lowResolution: "\(dir)/LR", scale: 4)
        #expect(paired.items.map(\.name) == ["image0", "image1"])
        #expect(paired.items[0].lowResolution == suite.items[0].lowResolution)
        #expect { _ = try BenchmarkSuite.paired(name: "x", highResolution: "\(dir)/HR", lowResolution: "\(dir)/LR", scale: 3) } throws: {
            "\($0)".contains("mod-cropped to ×3")
        }
        // Made by MATLAB bicubic, and by a degradation preset reproducibly per seed.
        let made = try BenchmarkSuite.degraded(name: "x", highResolution: "\(dir)/HR", scale: 4, degradation: nil).suite
        #expect(made.items[1].lowResolution == suite.items[1].lowResolution)
        let preset = DegradationConfiguration.presets["realesrgan"]!
        let first = try BenchmarkSuite.degraded(name: "x", highResolution: "\(dir)/HR", scale: 4, degradation: ("realesrgan", preset, 5))
        let second = try BenchmarkSuite.degraded(name: "x", highResolution: "\(dir)/HR", scale: 4, degradation: ("realesrgan", preset, 5))
        #expect(first.parameters.count == 2)
        #expect(first.suite.items[0].lowResolution == second.suite.items[0].lowResolution)
        #expect(first.suite.items[0].lowResolution.width == 6)
    }

    @Test func peakMemoryIsReadable() {
        #expect(PeakMemory.reset())
        let peak = PeakMemory.current()
        #expect(peak != nil && peak! > 1)
    }
}

@Suite("Benchmark runner with a StableSR model", .tags(.report))
struct StableSRBenchmarkTests {
    @Test("A converted StableSR file is a benchmark column like an SR3 model, through the Upscaler protocol")
    func stableSRColumn() throws {
        let dir = try makeTemporaryDirectory("benchmark-stablesr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e2e = { (name: String) in Fixtures.path("stablesr/e2e/" + name) }
        let model = try StableSRModel(checkpoint: e2e("sr.ckpt"), configuration: e2e("sr.yaml"), cfwCheckpoint: e2e("cfw.ckpt"),
                                      cfwConfiguration: e2e("cfw.yaml"))
        model.defaults = StableSRSettings.Recorded(steps: 1, inputSize: 64)
        let file = "\(dir)/stablesr.safetensors"
        try model.write(to: file, dtype: .float32)
        let suite = syntheticSuite(count: 1, size: 88)
        let method = BenchmarkMethod(name: "stablesr", kind: .model(path: file, sampling: SamplingSettings()))
        let fidelity = BenchmarkMethod(name: "stablesr-w1", kind: .model(path: file, sampling: SamplingSettings(decoderWeight: 1)))
        let runner = BenchmarkRunner(suite: suite, methods: [method, fidelity], cacheFolder: "\(dir)/cache", metrics: ["psnr"], niqe: nil)
        let results = try runner.run(command: "test")
        let column = try #require(results.methods.first)
        // The w = 1 column decoded the first column's latent (one memo entry) and equals a run of its own.
        #expect(runner.latentMemo.count == 1)
        // Each column's detail names the settings it ran with, the recorded ones resolved (the model
        // records one step and no w: the reference's w 0.5 and AdaIN apply).
        #expect(results.methods[1].detail.contains("ddpm 1 steps, w 1.0, color fix adain"), "\(results.methods[1].detail)")
        #expect(column.detail.contains("ddpm 1 steps, w 0.5, color fix adain"), "\(column.detail)")
        let alone = try StableSRUpscaler(model: model, sampling: SamplingSettings(decoderWeight: 1), scale: 4, path: file)
            .upscale([suite.items[0].lowResolution], seeds: [SamplingSettings().seed(image: 0, sample: 0)]) { _, _ in true }[0]
        #expect(try Image(contentsOfFile: "\(dir)/cache/stablesr-w1/image0.png") == alone.quantized())
        #expect(try Image(contentsOfFile: "\(dir)/cache/stablesr-w1/image0.png") != Image(contentsOfFile: "\(dir)/cache/stablesr/image0.png"))
        #expect(column.images.count == 1)
        #expect(column.images[0].scores.psnr?.isFinite == true)
        #expect(column.detail.contains("(StableSR)"))
        let output = try Image(contentsOfFile: "\(dir)/cache/stablesr/image0.png")
        #expect(output.width == 88 && output.height == 88)
        // SR3+'s augmentation level is refused for a StableSR column.
        let augmented = BenchmarkMethod(name: "stablesr-aug", kind: .model(path: file, sampling: SamplingSettings(augmentationLevel: 0.2)))
        #expect(throws: BenchmarkError.self) {
            try BenchmarkRunner(suite: suite, methods: [augmented], cacheFolder: "\(dir)/cache2", metrics: ["psnr"], niqe: nil).run(command: "test")
        }
        // A column's CFW weight (METHOD@w=W) reaches the upscaler's settings (the decoder's use of w is
        // the autoencoder fixture's test), and overrides the model's recorded w.
        for w in [0.0, 1.0] {
            let upscaler = try StableSRUpscaler(model: model, sampling: SamplingSettings(decoderWeight: w), scale: 4, path: file)
            #expect(upscaler.settings.decoderWeight == w && upscaler.summary.contains("w \(w)"))
        }
        #expect(try StableSRUpscaler(model: model, sampling: SamplingSettings(), scale: 4, path: file).settings.decoderWeight == 0.5)
    }
}
