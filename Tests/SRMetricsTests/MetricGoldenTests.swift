import Foundation
import Testing
import _TestSupport
import SRImage
import SRMetrics

/// PSNR, SSIM and consistency against BasicSR 1.4.2 (fixtures: Tools/golden/make_fixtures.py).
@Suite("Full-reference metrics")
struct MetricGoldenTests {
    struct Fixture: Decodable {
        struct Pair: Decodable { let sr: [Int]; let hr: [Int]; let width: Int; let height: Int }
        struct Case: Decodable { let pair: Int; let channel: String; let crop_border: Int; let psnr: Double; let ssim: Double }
        struct ConsistencyCase: Decodable { let sr: [Int]; let lr: [Int]; let scale: Int; let value: Double }
        let images: [Pair]
        let cases: [Case]
        let consistency: ConsistencyCase
    }

    static let fixture: Fixture = try! Fixtures.json("metrics.json")

    static func images(_ c: Fixture.Case) -> (Image, Image) {
        let pair = fixture.images[c.pair]
        return (Image(width: pair.width, height: pair.height, intLevels: pair.sr),
                Image(width: pair.width, height: pair.height, intLevels: pair.hr))
    }

    @Test("PSNR matches calculate_psnr to 1e-4 dB", arguments: fixture.cases)
    func psnr(_ c: Fixture.Case) throws {
        let (sr, hr) = Self.images(c)
        let value = try PSNR(channel: MetricChannel(rawValue: c.channel)!, cropBorder: c.crop_border)(sr, reference: hr)
        #expect(abs(value - c.psnr) < 1e-4, "\(c.channel) border \(c.crop_border): \(value) vs \(c.psnr)")
    }

    @Test("SSIM matches calculate_ssim to 1e-5", arguments: fixture.cases)
    func ssim(_ c: Fixture.Case) throws {
        let (sr, hr) = Self.images(c)
        let value = try SSIM(channel: MetricChannel(rawValue: c.channel)!, cropBorder: c.crop_border)(sr, reference: hr)
        #expect(abs(value - c.ssim) < 1e-5, "\(c.channel) border \(c.crop_border): \(value) vs \(c.ssim)")
    }

    @Test("Consistency is the 0-255 MSE of imresize(sr, 1/s) against the LR")
    func consistency() throws {
        let c = Self.fixture.consistency
        let sr = Image(width: 40, height: 32, intLevels: c.sr)
        let lr = Image(width: 10, height: 8, intLevels: c.lr)
        let value = try Consistency(scale: c.scale)(sr, lowResolution: lr)
        #expect(abs(value - c.value) < 1e-3 * max(1, c.value))
    }

    @Test("Consistency of an exact bicubic downsample with its own output is 0")
    func consistencyZero() throws {
        let case0 = Self.fixture.images[0]
        let sr = Image(width: case0.width, height: case0.height, intLevels: case0.sr)
        let lr = sr.resized(scale: 0.25, method: .matlabBicubic)
        #expect(try Consistency(scale: 4)(sr, lowResolution: lr) < 1e-9)
    }

    @Test("PSNR(x, x) = ∞ and SSIM(x, x) = 1; both symmetric", .tags(.property))
    func properties() throws {
        let pair = Self.fixture.images[1]
        let a = Image(width: pair.width, height: pair.height, intLevels: pair.sr)
        let b = Image(width: pair.width, height: pair.height, intLevels: pair.hr)
        for channel in MetricChannel.allCases {
            #expect(try PSNR(channel: channel)(a, reference: a) == .infinity)
            #expect(abs(try SSIM(channel: channel)(a, reference: a) - 1) < 1e-12)
            #expect(abs(try PSNR(channel: channel)(a, reference: b) - PSNR(channel: channel)(b, reference: a)) < 1e-12)
            #expect(abs(try SSIM(channel: channel)(a, reference: b) - SSIM(channel: channel)(b, reference: a)) < 1e-12)
        }
    }

    @Test("Hand-checked PSNR: a uniform error of 1 level is 48.13 dB")
    func handChecked() throws {
        let a = Image(width: 8, height: 8, channels: 3, repeating: 100.0 / 255)
        let b = Image(width: 8, height: 8, channels: 3, repeating: 101.0 / 255)
        #expect(abs(try PSNR(channel: .rgb)(a, reference: b) - 10 * log10(255.0 * 255)) < 1e-4)
    }

    @Test("Mismatched sizes and over-large borders are errors, not numbers")
    func errors() {
        let a = Image(width: 8, height: 8, channels: 3)
        let b = Image(width: 8, height: 9, channels: 3)
        #expect(throws: MetricError.self) { try PSNR()(a, reference: b) }
        #expect(throws: MetricError.self) { try PSNR(cropBorder: 4)(a, reference: a) }
        #expect(throws: MetricError.self) { try SSIM()(a, reference: a) }   // smaller than the 11x11 window
        #expect(throws: MetricError.self) { try Consistency(scale: 4)(a, lowResolution: b) }
    }
}
