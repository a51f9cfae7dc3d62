import Testing
import SRImage
@testable import SRDegradation
import _TestSupport

@Suite("Blur paths agree")
struct BlurPathTests {
    @Test("The oneDNN blur and the small-image fallback give the same result")
    func paths() {
        let image = Image(width: 25, height: 23, channels: 3, pixels: (0..<1725).map { Float(($0 * 37) % 101) / 100 })
        let kernel = BlurKernel.gaussian(size: 21, sigmaX: 2.5, sigmaY: 1.1, theta: 0.7, isotropic: false)
        let fast = DegradationOperations.blur(image, kernel: kernel)
        let slow = DegradationOperations.smallImageBlur(image, kernel: kernel)
        #expect(maxAbsoluteDifference(fast.pixels, slow.pixels.map(Double.init)) < 1e-5)
        // A rank-1 kernel (USM's isotropic 51×51 Gaussian) takes the separable path: it equals the
        // 2-D correlation, also on an image smaller than the kernel's half-width.
        let gaussian = BlurKernel.gaussian(size: 51, sigmaX: 8)
        #expect(gaussian.separableFactors != nil && kernel.separableFactors == nil)
        #expect(BlurKernel.circularLowpass(cutoff: 1.2, size: 13).separableFactors == nil)
        let separable = DegradationOperations.blur(image, kernel: gaussian)
        #expect(maxAbsoluteDifference(separable.pixels, DegradationOperations.smallImageBlur(image, kernel: gaussian).pixels.map(Double.init)) < 1e-5)
        let large = Image(width: 70, height: 64, channels: 3, pixels: (0..<13440).map { Float(($0 * 53) % 97) / 96 })
        let direct = DegradationOperations.smallImageBlur(large, kernel: gaussian).pixels.map(Double.init)
        #expect(maxAbsoluteDifference(DegradationOperations.blur(large, kernel: gaussian).pixels, direct) < 1e-5)
        let axisAligned = BlurKernel.gaussian(size: 7, sigmaX: 2, sigmaY: 0.6, theta: 0, isotropic: false)
        #expect(axisAligned.separableFactors != nil)
        #expect(maxAbsoluteDifference(DegradationOperations.blur(large, kernel: axisAligned).pixels,
                                      DegradationOperations.smallImageBlur(large, kernel: axisAligned).pixels.map(Double.init)) < 1e-5)
        #expect(DegradationOperations.reflect(-1, 5) == 1 && DegradationOperations.reflect(5, 5) == 3 && DegradationOperations.reflect(-9, 5) == 1)
    }
}
