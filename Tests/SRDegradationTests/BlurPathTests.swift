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
        #expect(DegradationOperations.reflect(-1, 5) == 1 && DegradationOperations.reflect(5, 5) == 3 && DegradationOperations.reflect(-9, 5) == 1)
    }
}
