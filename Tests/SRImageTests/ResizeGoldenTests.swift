import Testing
import _TestSupport
import SRImage

/// Resizing against the reference implementations (fixtures: Tools/golden/make_fixtures.py,
/// BasicSR 1.4.2 imresize, Pillow 13.0.0, torch 2.15.0).
@Suite("Resize goldens", .tags(.golden))
struct ResizeGoldenTests {
    struct Fixture: Decodable {
        struct Input: Decodable { let width: Int; let height: Int; let levels: [Int] }
        struct Case: Decodable {
            let method: String
            let scale: Double?
            let size: [Int]?
            let shape: [Int]
            let values: [Double]?
            let levels: [Int]?
        }
        let input: Input
        let cases: [Case]
    }

    static let fixture: Fixture = try! Fixtures.json("resize.json")
    static var input: Image {
        Image(width: fixture.input.width, height: fixture.input.height, intLevels: fixture.input.levels)
    }

    static func run(_ c: Fixture.Case) -> Image {
        let method = ResizeMethod(rawValue: c.method)!
        if let size = c.size { return input.resized(width: size[0], height: size[1], method: method) }
        return input.resized(scale: c.scale!, method: method)
    }

    static func cases(_ prefix: String) -> [Fixture.Case] { fixture.cases.filter { $0.method.hasPrefix(prefix) } }

    @Test("matlab-bicubic matches BasicSR imresize to 1e-5", arguments: cases("matlab"))
    func matlab(_ c: Fixture.Case) {
        let out = Self.run(c)
        #expect([out.height, out.width, out.channels] == c.shape)
        #expect(maxAbsoluteDifference(out.pixels, c.values!) < 1e-5)
    }

    @Test("Pillow methods match Image.resize within 1/255 (8-bit)", arguments: cases("pil"))
    func pillow(_ c: Fixture.Case) {
        let out = Self.run(c)
        #expect([out.height, out.width, out.channels] == c.shape)
        let levels = out.levels()
        var worst = 0, mismatches = 0
        for (a, b) in zip(levels, c.levels!) {
            worst = max(worst, abs(Int(a) - b))
            if Int(a) != b { mismatches += 1 }
        }
        #expect(worst <= 1, "\(c.method) \(c.size!): max difference \(worst) levels")
        // The fixed-point emulation is exact: no level may differ at all.
        #expect(mismatches == 0, "\(c.method) \(c.size!): \(mismatches) samples differ")
    }

    @Test("torch methods match F.interpolate to 1e-5", arguments: cases("torch") + cases("nearest"))
    func torch(_ c: Fixture.Case) {
        let out = Self.run(c)
        #expect([out.height, out.width, out.channels] == c.shape)
        #expect(maxAbsoluteDifference(out.pixels, c.values!) < 1e-5, "\(c.method) scale \(String(describing: c.scale)) size \(String(describing: c.size))")
    }
}
