import Testing
import _TestSupport
import SRImage

@Suite("Resize properties", .tags(.property))
struct ResizePropertyTests {
    static func ramp(width: Int, height: Int) -> Image {
        var image = Image(width: width, height: height, channels: 3)
        for y in 0..<height { for x in 0..<width { for c in 0..<3 {
            image[y, x, c] = Float((x * 7 + y * 13 + c * 40) % 256) / 255
        } } }
        return image
    }

    @Test("Output sizes follow each reference's convention", arguments: ResizeMethod.allCases)
    func outputSizes(_ method: ResizeMethod) {
        let image = Self.ramp(width: 30, height: 17)
        let down = image.resized(scale: 1.0 / 3, method: method)
        if method == .matlabBicubic {
            #expect(down.width == 10 && down.height == 6)   // ceil(17/3)
        } else {
            #expect(down.width == 10 && down.height == 5)   // floor(17/3)
        }
        let sized = image.resized(width: 41, height: 9, method: method)
        #expect(sized.width == 41 && sized.height == 9 && sized.channels == 3)
    }

    @Test("A constant image stays constant", arguments: ResizeMethod.allCases)
    func constant(_ method: ResizeMethod) {
        let image = Image(width: 13, height: 9, channels: 3, repeating: 100.0 / 255)
        for out in [image.resized(scale: 0.5, method: method), image.resized(width: 29, height: 5, method: method)] {
            for v in out.pixels { #expect(abs(v - 100.0 / 255) < 1e-5) }
        }
    }

    @Test("Nearest ×2 repeats every pixel")
    func nearestDoubles() {
        let image = Self.ramp(width: 5, height: 4)
        let out = image.resized(scale: 2, method: .nearest)
        for y in 0..<8 { for x in 0..<10 { for c in 0..<3 {
            #expect(out[y, x, c] == image[y / 2, x / 2, c])
        } } }
    }

    @Test("torch-area ÷2 is the mean of 2×2 blocks")
    func areaAverages() {
        let image = Self.ramp(width: 6, height: 4)
        let out = image.resized(scale: 0.5, method: .torchArea)
        let expected = (image[2, 4, 1] + image[2, 5, 1] + image[3, 4, 1] + image[3, 5, 1]) / 4
        #expect(abs(out[1, 2, 1] - expected) < 1e-6)
    }

    @Test("Single-pixel and one-channel images resize")
    func tiny() {
        let pixel = Image(width: 1, height: 1, channels: 1, pixels: [0.5])
        for method in ResizeMethod.allCases {
            let out = pixel.resized(width: 3, height: 2, method: method)
            #expect(out.channels == 1 && out.width == 3 && out.height == 2)
            for v in out.pixels { #expect(abs(v - 0.5) < 1 / 255.0 + 1e-6) }
        }
    }
}
