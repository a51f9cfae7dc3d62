import Foundation
import Testing
import SRImage
import _TestSupport

/// The Chromium binary from Debian's `chromium` package, when installed (`make test` installs it).
let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("diffsr benchmark", .tags(.cli, .report), .serialized)
struct BenchmarkCommandTests {
    /// A folder suite (HR only: LR made by MATLAB bicubic) and the tiny SR3 model as safetensors.
    func prepare(_ dir: String) throws -> String {
        try FileManager.default.createDirectory(atPath: "\(dir)/suite/HR", withIntermediateDirectories: true)
        for index in 0..<2 {
            let pixels = (0..<(32 * 32 * 3)).map { i -> Float in
                let x = (i / 3) % 32, y = i / 96
                return 0.5 + 0.35 * sin(Float(x) * 0.5 + Float(index)) * cos(Float(y) * 0.3 + Float(i % 3))
            }
            try Image(width: 32, height: 32, channels: 3, pixels: pixels).write(toFile: "\(dir)/suite/HR/photo\(index).png")
        }
        let converted = try CommandRunner.run(["convert", Fixtures.path("sr3/tiny_gen.pth"), "--model-config", Fixtures.path("sr3/tiny_config.json"),
                                               "-o", "\(dir)/tiny.safetensors"])
        #expect(converted.status == 0, "\(converted.stderr)")
        return "\(dir)/tiny.safetensors"
    }

    @Test func writesTablesReportAndSamplerStudy() throws {
        let dir = try makeTemporaryDirectory("diffsr-benchmark")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try prepare(dir)
        let arguments = ["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic,lanczos,\(model)", "--metrics", "psnr,ssim,consistency",
                         "--steps", "2", "--samples", "2", "--study-model", model, "--study-samplers", "ddim,dpm-solver++", "--study-steps", "1,2",
                         "--report-crop", "16", "-o", "\(dir)/out"]
        let result = try CommandRunner.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        for file in ["results.md", "results.csv", "results.json", "report.html", "sampler-study.svg"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/out/\(file)"), "\(file) missing")
        }
        #expect(result.stdout.contains("| Method | PSNR-Y ↑ | SSIM-Y ↑ | Consistency ↓ | s/image | peak MiB |"))
        #expect(result.stdout.contains("| tiny |"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/results.json"))) as! [String: Any]
        let methods = json["methods"] as! [[String: Any]]
        #expect(methods.count == 3 + 4)
        #expect(methods[2]["samples"] as? Int == 2)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/out/cache/tiny/photo1_s1.png"))
        // The rerun reuses every cached output and gives the same table.
        let again = try CommandRunner.run(arguments)
        #expect(again.status == 0)
        func scores(_ stdout: String) -> String? {
            // The tiny model's row without its timing and memory columns.
            guard let row = stdout.split(separator: "\n").first(where: { $0.hasPrefix("| tiny |") }) else { return nil }
            return row.split(separator: "|").dropLast(2).joined(separator: "|")
        }
        #expect(scores(again.stdout) != nil)
        #expect(scores(again.stdout) == scores(result.stdout))
    }

    @Test(.enabled(if: chromiumPath != nil, "Chromium is not installed (make test installs it)"))
    func reportRendersInAHeadlessBrowser() throws {
        let dir = try makeTemporaryDirectory("diffsr-benchmark-browser")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try prepare(dir)
        let result = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic,lanczos,\(model)", "--metrics", "psnr,ssim",
                                            "--steps", "2", "--report-crop", "16", "-o", "\(dir)/out"])
        #expect(result.status == 0, "\(result.stderr)")
        let page = "file://\(dir)/out/report.html"
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--user-data-dir=\(dir)/profile"]
        let dom = try CommandRunner.run(executable: chromiumPath!, common + ["--virtual-time-budget=5000", "--dump-dom", page]).stdout
        func attribute(_ name: String) -> Int? {
            guard let range = dom.range(of: "\(name)=\"") else { return nil }
            return Int(dom[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect(attribute("data-ready") == 1, "the page's script did not run")
        // Two images × (LR + 3 methods + HR) panels + two slider images each.
        #expect(attribute("data-images-total") == 2 * 5 + 2 * 2)
        #expect(attribute("data-images-loaded") == attribute("data-images-total"))
        #expect(attribute("data-table-rows") == 3)
        _ = try CommandRunner.run(executable: chromiumPath!, common + ["--window-size=1200,1600", "--screenshot=\(dir)/shot.png", page])
        let shot = try Image(contentsOfFile: "\(dir)/shot.png")
        #expect(shot.width == 1200)
        let distinct = Set(shot.levels().prefix(shot.width * 400 * 3))
        #expect(distinct.count > 20, "the screenshot looks blank")
    }

    @Test func degradedSuiteLogsItsInputs() throws {
        let dir = try makeTemporaryDirectory("diffsr-benchmark-degraded")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try prepare(dir)
        let result = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic,\(model)@aug=0,\(model)@aug=0.3",
                                            "--metrics", "psnr", "--steps", "1", "--degradation", "realesrgan", "--seed", "3", "-o", "\(dir)/out"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("realesrgan, seed 3"))
        // One column per test-time augmentation level.
        #expect(result.stdout.contains("tiny aug 0.0") && result.stdout.contains("tiny aug 0.3"))
        let log = try String(contentsOfFile: "\(dir)/out/degradation-params.jsonl", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 2)
        // The logged parameters replay to the same LR inputs.
        let replay = try CommandRunner.run(["degrade", "\(dir)/suite/HR", "--replay", "\(dir)/out/degradation-params.jsonl", "-o", "\(dir)/replayed"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(try Image(contentsOfFile: "\(dir)/replayed/photo1.png") == Image(contentsOfFile: "\(dir)/out/lr/photo1.png"))
    }

    @Test(.tags(.badInput)) func badInputIsReported() throws {
        let dir = try makeTemporaryDirectory("diffsr-benchmark-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try prepare(dir)
        let unknown = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic,nosuchmodel", "-o", "\(dir)/out"],
                                            environment: ["DIFFSR_MODELS": "\(dir)/none"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown method 'nosuchmodel'"))
        let missing = try CommandRunner.run(["benchmark", "--suite", "no-such-suite", "--data", dir, "-o", "\(dir)/out"])
        #expect(missing.status != 0 && missing.stderr.contains("make data"))
        let external = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic", "--external", "x", "-o", "\(dir)/out"])
        #expect(external.status != 0 && external.stderr.contains("NAME=DIR"))
        let resizeLevel = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic@aug=0.1", "-o", "\(dir)/out"])
        #expect(resizeLevel.status != 0 && resizeLevel.stderr.contains("applies to SR3+ models"))
        let badLevel = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "sr3plus@aug=2", "-o", "\(dir)/out"])
        #expect(badLevel.status != 0 && badLevel.stderr.contains("METHOD@aug=LEVEL"))
        let resizeWeight = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "bicubic@w=0.5", "-o", "\(dir)/out"])
        #expect(resizeWeight.status != 0 && resizeWeight.stderr.contains("applies to StableSR models"))
        let sr3Weight = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "\(dir)/tiny.safetensors@w=0.5", "--metrics", "psnr",
                                               "-o", "\(dir)/out"])
        #expect(sr3Weight.status != 0 && sr3Weight.stderr.contains("applies to StableSR models, not SR3"))
        let badWeight = try CommandRunner.run(["benchmark", "--suite", "\(dir)/suite", "--methods", "stablesr@w=1.5", "-o", "\(dir)/out"])
        #expect(badWeight.status != 0 && badWeight.stderr.contains("METHOD@w=WEIGHT"))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out/results.md"))
    }
}
