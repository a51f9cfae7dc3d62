import Foundation
import Testing
import SRDegradation
import SRImage
import SRTensor
import _TestSupport

@Suite("Degradation kernels and operations")
struct KernelTests {
    struct Fixture: Decodable {
        struct Kernel: Decodable {
            let kind: String, size: Int, values: [Double]
            let sx: Double?, sy: Double?, theta: Double?, beta: Double?, cutoff: Double?, pad: Int?
        }
        struct Sharpening: Decodable { let width: Int, height: Int, input: [Float], output: [Float] }
        let kernels: [Kernel]
        let usm: Sharpening
    }

    static let fixture: Fixture = try! Fixtures.json("degradations.json")

    @Test("Kernels match BasicSR's degradations.py", .tags(.golden), arguments: fixture.kernels.indices)
    func kernels(_ index: Int) {
        let k = Self.fixture.kernels[index]
        let kernel: BlurKernel
        switch k.kind {
        case "gaussian_iso": kernel = .gaussian(size: k.size, sigmaX: k.sx!)
        case "gaussian_aniso": kernel = .gaussian(size: k.size, sigmaX: k.sx!, sigmaY: k.sy!, theta: k.theta!, isotropic: false)
        case "generalized_aniso": kernel = .generalizedGaussian(size: k.size, sigmaX: k.sx!, sigmaY: k.sy!, theta: k.theta!, beta: k.beta!, isotropic: false)
        case "plateau_aniso": kernel = .plateau(size: k.size, sigmaX: k.sx!, sigmaY: k.sy!, theta: k.theta!, beta: k.beta!, isotropic: false)
        default: kernel = .circularLowpass(cutoff: k.cutoff!, size: k.size, padTo: k.pad!)
        }
        #expect(kernel.values.count == k.values.count)
        let worst = zip(kernel.values, k.values).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-12, "\(k.kind) size \(k.size): \(worst)")
    }

    @Test("USM sharpening of the target matches BasicSR's USMSharp", .tags(.golden))
    func sharpening() {
        let u = Self.fixture.usm
        let out = DegradationOperations.sharpen(Image(width: u.width, height: u.height, channels: 3, pixels: u.input))
        #expect(maxAbsoluteDifference(out.pixels, u.output.map(Double.init)) < 1e-5)
        #expect(maxAbsoluteDifference(u.input, u.output.map(Double.init)) > 0.01)   // the fixture does sharpen
    }

    @Test("Blurring keeps a constant image and the range; the identity kernel is a no-op", .tags(.property))
    func blur() {
        let flat = Image(width: 30, height: 20, channels: 3, repeating: 0.4)
        let blurred = DegradationOperations.blur(flat, kernel: .gaussian(size: 21, sigmaX: 3, sigmaY: 1, theta: 0.3, isotropic: false))
        #expect(blurred.pixels.allSatisfy { abs($0 - 0.4) < 1e-5 })
        let image = Image(width: 24, height: 24, channels: 3, pixels: (0..<1728).map { Float($0 % 13) / 12 })
        #expect(DegradationOperations.blur(image, kernel: .identity(size: 21)).pixels == image.pixels)
    }

    @Test("Noise keeps the range, is reproducible for a seed, and gray noise is shared by the channels", .tags(.property))
    func noise() {
        let image = Image(width: 16, height: 16, channels: 3, pixels: (0..<768).map { Float($0 % 50) / 49 })
        var a = TorchGenerator(seed: 1), b = TorchGenerator(seed: 1)
        let first = DegradationOperations.gaussianNoise(image, sigma: 20, gray: false, using: &a)
        let second = DegradationOperations.gaussianNoise(image, sigma: 20, gray: false, using: &b)
        #expect(first == second && first != image && first.pixels.allSatisfy { (0...1).contains($0) })
        let mid = Image(width: 8, height: 8, channels: 3, repeating: 0.5)
        let gray = DegradationOperations.gaussianNoise(mid, sigma: 10, gray: true, using: &a)
        for p in 0..<64 { #expect(gray.pixels[p * 3] == gray.pixels[p * 3 + 1] && gray.pixels[p * 3] == gray.pixels[p * 3 + 2]) }
        let poisson = DegradationOperations.poissonNoise(image, scale: 1, gray: false, using: &a)
        #expect(poisson != image && poisson.pixels.allSatisfy { (0...1).contains($0) })
        // Shot noise is unbiased with variance x/vals (vals = 256 for ≥ 129 distinct levels).
        let ramp = Image(width: 64, height: 64, channels: 3, pixels: (0..<12288).map { 0.2 + 0.6 * Float($0 % 200) / 199 })
        let noisy = DegradationOperations.poissonNoise(ramp, scale: 1, gray: false, using: &a)
        let differences = zip(noisy.pixels, ramp.pixels).map { Double($0 - $1) }
        let mean = differences.reduce(0, +) / Double(differences.count)
        let variance = differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(differences.count)
        #expect(abs(mean) < 1e-3)
        #expect(abs(variance - 0.5 / 256) < 0.2 * 0.5 / 256, "variance \(variance)")
    }

    @Test("JPEG at low quality changes the image, at 100 barely")
    func jpeg() throws {
        let image = Image(width: 32, height: 32, channels: 3, pixels: (0..<3072).map { Float(($0 * 7) % 256) / 255 })
        let low = try DegradationOperations.jpeg(image, quality: 10), high = try DegradationOperations.jpeg(image, quality: 100)
        let error = { (x: Image) in zip(x.pixels, image.pixels).map { abs($0 - $1) }.reduce(0, +) }
        #expect(error(low) > 2 * error(high))
    }
}
