import Foundation
import Testing
import SRDegradation
import SRImage
import SRTensor
import _TestSupport

@Suite("Real-ESRGAN degradation pipeline", .tags(.property))
struct PipelineTests {
    static let photo: Image = try! Image(contentsOfFile: Fixtures.path("niqe_photo.png")).cropped(x: 0, y: 0, width: 96, height: 64)

    @Test("Every preset gives the LR size and range; the same seed gives the same image",
          arguments: ["realesrgan", "stablesr", "resshift", "sr3plus", "bicubic"])
    func presets(_ name: String) throws {
        let degradation = RealESRGANDegradation(configuration: DegradationConfiguration.presets[name]!, scale: 4)
        for seed in 0..<3 as Range<UInt64> {
            var a = TorchGenerator(seed: seed), b = TorchGenerator(seed: seed)
            let pa = degradation.sampleParameters(using: &a), pb = degradation.sampleParameters(using: &b)
            #expect(pa == pb)
            let (low, target) = try RealESRGANDegradation.apply(Self.photo, with: pa)
            let (again, _) = try RealESRGANDegradation.apply(Self.photo, with: pb)
            #expect(low.width == 24 && low.height == 16 && target.width == 96)
            #expect(low.pixels.allSatisfy { (0...1).contains($0) })
            #expect(low == again)
        }
    }

    @Test("Parameters survive a JSON round trip and replay to the same bytes")
    func replay() throws {
        var g = TorchGenerator(seed: 42)
        let parameters = RealESRGANDegradation(configuration: .realesrgan, scale: 2).sampleParameters(using: &g)
        let json = try JSONEncoder().encode(parameters)
        let decoded = try JSONDecoder().decode(DegradationParameters.self, from: json)
        #expect(decoded == parameters)
        let first = try RealESRGANDegradation.apply(Self.photo, with: parameters).lowResolution
        let second = try RealESRGANDegradation.apply(Self.photo, with: decoded).lowResolution
        #expect(try first.encoded(as: .png) == second.encoded(as: .png))
    }

    @Test("The bicubic preset is the MATLAB bicubic downsample")
    func bicubic() throws {
        var g = TorchGenerator(seed: 1)
        let p = RealESRGANDegradation(configuration: .bicubic, scale: 4).sampleParameters(using: &g)
        let low = try RealESRGANDegradation.apply(Self.photo, with: p).lowResolution
        #expect(low == Self.photo.resized(scale: 0.25, method: .matlabBicubic).clipped().quantized())
    }

    @Test("Sampled parameters stay in the configured ranges")
    func ranges() {
        let c = DegradationConfiguration.realesrgan
        let degradation = RealESRGANDegradation(configuration: c, scale: 4)
        var g = TorchGenerator(seed: 9)
        for _ in 0..<200 {
            let p = degradation.sampleParameters(using: &g)
            if let k = p.first.kernel {
                #expect(c.first.kernelSizes.contains(k.size))
                if let s = k.sigmaX { #expect(s >= 0.2 && s <= 3) }
                if let cutoff = k.cutoff { #expect(cutoff >= Double.pi / 5 && cutoff <= Double.pi) }
            } else {
                Issue.record("the first stage always blurs")
            }
            #expect(p.first.resizeScale >= 0.15 && p.first.resizeScale <= 1.5)
            #expect((30...95).contains(p.first.jpegQuality!) && (30...95).contains(p.finalJPEGQuality!))
            if let n = p.first.noise { #expect(n.kind == "gaussian" ? (1...30).contains(n.amount) : (0.05...3).contains(n.amount)) }
        }
    }

    @Test("The sr3plus preset draws radii 3…11 and Pillow resamplers, keeps Real-ESRGAN's ranges")
    func sr3plus() throws {
        let c = DegradationConfiguration.sr3plus
        #expect(c.first.kernelSizes == [7, 11, 15, 19, 23] && c.second?.kernelSizes == [7, 11, 15, 19, 23])
        #expect(!c.sharpen && c.first.resizeRange == [0.15, 1.5] && c.second?.resizeRange == [0.3, 1.2])
        #expect(c.first.jpegRange == [30, 95] && c.finalJPEGRange == [30, 95])
        let degradation = RealESRGANDegradation(configuration: c, scale: 4)
        var g = TorchGenerator(seed: 3)
        var sizes = Set<Int>(), methods = Set<ResizeMethod>(), orders = Set<String>()
        for _ in 0..<300 {
            let p = degradation.sampleParameters(using: &g)
            if let k = p.first.kernel { sizes.insert(k.size) }
            methods.insert(p.first.resizeMethod)
            methods.insert(p.second!.resizeMethod)
            orders.insert(p.finalOrder)
            #expect(!p.sharpen)
        }
        #expect(sizes == [7, 11, 15, 19, 23])
        #expect(methods == [.pilBox, .pilBicubic, .pilBilinear])
        #expect(orders.count == 2)
        // The preset is a configuration a user can print, edit and load back.
        let decoded = try JSONDecoder().decode(DegradationConfiguration.self, from: JSONEncoder().encode(c))
        #expect(decoded == c)
    }
}
