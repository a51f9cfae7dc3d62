import Foundation
import Testing
import SRImage
import _TestSupport

@Suite("diffsr command line", .tags(.cli), .serialized)
struct CommandLineTests {
    let dir: String

    init() throws {
        dir = try makeTemporaryDirectory("diffsr-cli")
        let source = try Image(contentsOfFile: Fixtures.path("niqe_photo.png"))   // 288x192
        try FileManager.default.createDirectory(atPath: dir + "/hr", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/lr", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sr", withIntermediateDirectories: true)
        for (name, x) in [("a", 0), ("b", 64)] {
            let hr = source.cropped(x: x, y: 0, width: 192, height: 192)
            try hr.write(toFile: "\(dir)/hr/\(name).png")
            let lr = hr.resized(scale: 0.25, method: .matlabBicubic)
            try lr.write(toFile: "\(dir)/lr/\(name).png")
            try lr.resized(scale: 4, method: .pilBicubic).write(toFile: "\(dir)/sr/\(name).png")
        }
    }

    func cleanUp() { try? FileManager.default.removeItem(atPath: dir) }

    /// One clear line on standard error and a non-zero exit.
    func expectFailure(_ result: CommandResult, mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status != 0, sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.first.map { $0.contains(text) } == true, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func resizeWritesTheRequestedSize() throws {
        defer { cleanUp() }
        let result = try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--size", "50x30", "--method", "pil-lanczos",
                                            "--output", "\(dir)/out.jpg"])
        #expect(result.status == 0, "\(result.stderr)")
        let image = try Image(contentsOfFile: "\(dir)/out.jpg")
        #expect(image.width == 50 && image.height == 30)
        let scaled = try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--scale", "0.25", "-o", "\(dir)/q.png"])
        #expect(scaled.status == 0)
        #expect(try Image(contentsOfFile: "\(dir)/q.png") == Image(contentsOfFile: "\(dir)/lr/a.png"))
    }

    @Test func resizeRejectsBadArguments() throws {
        defer { cleanUp() }
        expectFailure(try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--scale", "2", "--size", "4x4", "-o", "\(dir)/x.png"]),
                      mentioning: "exactly one of --scale or --size")
        expectFailure(try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--scale", "2", "--method", "cubic", "-o", "\(dir)/x.png"]),
                      mentioning: "cubic")
        expectFailure(try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--size", "0x4", "-o", "\(dir)/x.png"]),
                      mentioning: "--size")
        expectFailure(try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--scale", "2", "-o", "\(dir)/x.gif"]),
                      mentioning: "--output")
        expectFailure(try CommandRunner.run(["resize", "\(dir)/nope.png", "--scale", "2", "-o", "\(dir)/x.png"]),
                      mentioning: "nope.png")
        expectFailure(try CommandRunner.run(["resize", "\(dir)/hr/a.png", "--scale", "2", "-o", "\(dir)/no/such/x.png"]),
                      mentioning: "cannot write")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: "\(dir)/bad.png"))
        expectFailure(try CommandRunner.run(["resize", "\(dir)/bad.png", "--scale", "2", "-o", "\(dir)/x.png"]),
                      mentioning: "bad.png")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.png"))
    }

    @Test func evaluateFoldersAsJSON() throws {
        defer { cleanUp() }
        let result = try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr", "--hr", "\(dir)/hr", "--lr", "\(dir)/lr",
                                            "--scale", "4", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let images = json["images"] as! [[String: Any]]
        #expect(images.map { $0["name"] as! String } == ["a", "b"])
        let mean = json["mean"] as! [String: Double]
        #expect(Set(mean.keys) == ["psnr", "ssim", "consistency"])
        // The same numbers as the library computes (crop border = scale, Y channel).
        let sr = try Image(contentsOfFile: "\(dir)/sr/a.png"), hr = try Image(contentsOfFile: "\(dir)/hr/a.png")
        let psnr = try PSNRForTest.value(sr, hr)
        #expect(abs((images[0]["psnr"] as! Double) - psnr) < 1e-5)
        #expect(mean["psnr"]! > 20 && mean["ssim"]! > 0.5 && mean["ssim"]! <= 1)
    }

    @Test func evaluateTableAndCSV() throws {
        defer { cleanUp() }
        let table = try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr/a.png", "--hr", "\(dir)/hr/a.png", "--channel", "rgb"])
        #expect(table.status == 0)
        #expect(table.stdout.contains("psnr") && table.stdout.contains("mean"))
        let csv = try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr", "--hr", "\(dir)/hr", "--format", "csv",
                                         "--metrics", "psnr"])
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "name,psnr" && lines.count == 4 && lines.last!.hasPrefix("mean,"))
    }

    @Test func evaluateReportsUnpairedFiles() throws {
        defer { cleanUp() }
        try Image(width: 8, height: 8, channels: 3).write(toFile: "\(dir)/sr/extra.png")
        expectFailure(try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr", "--hr", "\(dir)/hr"]), mentioning: "extra.png")
        expectFailure(try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr", "--metrics", "psnr"]), mentioning: "--hr")
        expectFailure(try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr", "--hr", "\(dir)/hr", "--metrics", "lpips"]),
                      mentioning: "lpips")
        expectFailure(try CommandRunner.run(["evaluate", "--sr", "\(dir)/sr/a.png", "--hr", "\(dir)/lr/a.png"]),
                      mentioning: "192x192")
    }
}

/// The reference PSNR of the CLI test (library call, BasicSR convention at ×4).
enum PSNRForTest {
    static func value(_ sr: Image, _ hr: Image) throws -> Double {
        var sum = 0.0, count = 0
        let y1 = ColorSpace.luma(fromRGB: sr).shaved(by: 4), y2 = ColorSpace.luma(fromRGB: hr).shaved(by: 4)
        for i in y1.pixels.indices {
            let d = (Double(y1.pixels[i]) - Double(y2.pixels[i])) * 255
            sum += d * d
            count += 1
        }
        return 10 * log10(255 * 255 / (sum / Double(count)))
    }
}
