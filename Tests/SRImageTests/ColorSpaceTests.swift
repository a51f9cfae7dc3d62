import Testing
import _TestSupport
import SRImage

@Suite("BT.601 YCbCr (MATLAB / BasicSR)", .tags(.golden))
struct ColorSpaceTests {
    struct Fixture: Decodable {
        let width: Int, height: Int
        let rgb: [Double], ycbcr: [Double], y: [Double]
        let rgb_back: [Double]
    }

    static let fixture: Fixture = try! Fixtures.json("color.json")
    static var rgb: Image {
        Image(width: fixture.width, height: fixture.height, channels: 3, pixels: fixture.rgb.map { Float($0) })
    }

    @Test func ycbcrMatchesBasicSR() {
        let out = ColorSpace.ycbcr(fromRGB: Self.rgb)
        #expect(maxAbsoluteDifference(out.pixels, Self.fixture.ycbcr) < 1e-6)
    }

    @Test func lumaMatchesBasicSR() {
        let out = ColorSpace.luma(fromRGB: Self.rgb)
        #expect(out.channels == 1)
        #expect(maxAbsoluteDifference(out.pixels, Self.fixture.y) < 1e-6)
    }

    @Test func inverseMatchesBasicSR() {
        let back = ColorSpace.rgb(fromYCbCr: ColorSpace.ycbcr(fromRGB: Self.rgb))
        #expect(maxAbsoluteDifference(back.pixels, Self.fixture.rgb_back) < 1e-5)
        // And it is an inverse up to BasicSR's rounded matrix coefficients.
        #expect(maxAbsoluteDifference(back.pixels, Self.fixture.rgb) < 1e-3)
    }

    @Test("Hand-checked: white is Y=235, black Y=16, gray Cb=Cr=128")
    func handChecked() {
        let image = Image(width: 2, height: 1, channels: 3, pixels: [1, 1, 1, 0, 0, 0])
        let out = ColorSpace.ycbcr(fromRGB: image)
        #expect(abs(out.pixels[0] * 255 - 235) < 1e-4)
        #expect(abs(out.pixels[3] * 255 - 16) < 1e-4)
        for i in [1, 2, 4, 5] { #expect(abs(out.pixels[i] * 255 - 128) < 1e-4) }
    }
}
