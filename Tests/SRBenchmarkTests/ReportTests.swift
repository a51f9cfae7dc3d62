import Foundation
import Testing
import SRBenchmark
import SRDiffusion
import SRPipelines
import SRImage
import _TestSupport

@Suite("Benchmark tables, chart and report", .tags(.report))
struct ReportTests {
    func results() throws -> (BenchmarkResults, BenchmarkSuite, [String: [[Image]]]) {
        let dir = try makeTemporaryDirectory("benchmark-report")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let suite = syntheticSuite()
        let methods = [BenchmarkMethod(name: "bicubic", kind: .resize(.pilBicubic)), BenchmarkMethod(name: "lanczos, 8-bit", kind: .resize(.pilLanczos))]
        var outputs: [String: [[Image]]] = [:]
        var results = try BenchmarkRunner(suite: suite, methods: methods, cacheFolder: dir, metrics: ["psnr", "ssim", "consistency"], niqe: nil)
            .run(command: "diffsr benchmark --test", keepOutputs: { method, produced in outputs[method.name] = produced.images })
        // Two fake study points per sampler.
        for (sampler, steps, seconds, psnr) in [(SR3Upscaler.SamplerKind.ddim, 5, 1.0, 25.0), (.ddim, 10, 2.0, 26.0), (.dpmSolverPlusPlus, 5, 1.1, 25.5), (.dpmSolverPlusPlus, 10, 2.1, 26.5)] {
            var point = results.methods[0]
            point.name = "m \(sampler.rawValue)-\(steps)"
            point.studyPoint = BenchmarkMethod.StudyPoint(sampler: sampler, steps: steps)
            point.secondsPerImage = seconds
            point.mean.psnr = psnr
            results.methods.append(point)
        }
        return (results, suite, outputs)
    }

    @Test func tablesHaveOneRowPerMethodAndStateConventions() throws {
        let (results, _, _) = try results()
        let markdown = results.markdown()
        #expect(markdown.contains("| Method | PSNR-Y ↑ | SSIM-Y ↑ | Consistency ↓ | s/image | peak MiB |"))
        let bicubic = results.methods[0]
        #expect(markdown.contains("| bicubic | \(String(format: "%.2f", bicubic.mean.psnr!)) | \(String(format: "%.4f", bicubic.mean.ssim!)) |"))
        #expect(markdown.contains("## Sampler study") && markdown.contains("| dpm-solver++ | 10 |"))
        #expect(markdown.contains("Conventions: PSNR-Y and SSIM-Y"))
        let csv = results.csv().split(separator: "\n")
        #expect(csv[0] == "method,sampler,steps,image,psnr,ssim,consistency,seconds,peak_mib")
        #expect(csv.count == 1 + 6 * 3)   // six methods × (two images + mean)
        #expect(csv.contains { $0.hasPrefix("\"lanczos, 8-bit\",,,mean,") })
        let decoded = try JSONDecoder().decode(BenchmarkResults.self, from: Data(try results.json().utf8))
        #expect(decoded.methods.count == 6 && decoded.methods[1].mean == results.methods[1].mean)
    }

    @Test func samplerChartHasALinePerSamplerAndAPointPerStudyPoint() throws {
        let (results, _, _) = try results()
        let svg = try #require(SamplerStudyChart.svg(points: SamplerStudyChart.points(of: results), metrics: [("psnr", "PSNR-Y")]))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 4)
        #expect(SamplerStudyChart.svg(points: [], metrics: [("psnr", "PSNR-Y")]) == nil)
    }

    @Test func reportIsSelfContainedWithEveryPanel() throws {
        let (results, suite, outputs) = try results()
        let entries = suite.items.enumerated().map { index, item -> HTMLReport.Entry in
            let crop = DetailCrop.choose(in: item.highResolution, size: 16, scale: 4)
            return HTMLReport.Entry(name: item.name, crop: crop, panels:
                [HTMLReport.Panel(label: "LR input", image: crop.applyToLowResolution(item.lowResolution, scale: 4), pixelated: true)]
                + results.mainMethods.map { HTMLReport.Panel(label: $0.name, image: crop.apply(to: outputs[$0.name]![index][0])) }
                + [HTMLReport.Panel(label: "HR", image: crop.apply(to: item.highResolution))])
        }
        let html = try HTMLReport(results: results, entries: entries, studyChart: "<svg></svg>").html()
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == 2 * 4)
        #expect(html.components(separatedBy: "<tr data-method=").count - 1 == 2)
        #expect(!html.contains("http://") || !html.replacingOccurrences(of: "http://www.w3.org", with: "").contains("http://"))
        #expect(!html.contains("https://"))
        #expect(html.contains("lanczos, 8-bit"))
    }

    @Test func detailCropFindsTheTexturedRegion() {
        // Flat gray except a checkerboard in the window x 32..<48, y 16..<32.
        var pixels = [Float](repeating: 0.5, count: 64 * 48 * 3)
        for y in 16..<32 { for x in 32..<48 where (x + y) % 2 == 0 { for c in 0..<3 { pixels[(y * 64 + x) * 3 + c] = 1 } } }
        let image = Image(width: 64, height: 48, channels: 3, pixels: pixels)
        let crop = DetailCrop.choose(in: image, size: 16, scale: 4)
        #expect(crop == DetailCrop(x: 32, y: 16, width: 16, height: 16))
        #expect(DetailCrop.choose(in: image, size: 0, scale: 4) == DetailCrop(x: 0, y: 0, width: 64, height: 48))
        let odd = DetailCrop.choose(in: image, size: 18, scale: 4)
        #expect(odd.width == 16 && odd.x % 4 == 0 && odd.y % 4 == 0)
        #expect(crop.applyToLowResolution(Image(width: 16, height: 12, channels: 3), scale: 4).width == 4)
    }
}
