import Foundation
import Testing
import SRImage
import _TestSupport

@Suite("PNG and JPEG codecs", .tags(.codec))
struct CodecTests {
    struct Fixture: Decodable {
        struct Decoded: Decodable { let file: String; let width: Int; let height: Int; let expected: [Double] }
        struct JPEG: Decodable { let file: String; let width: Int; let height: Int; let quality: Int; let expected: [Int] }
        struct EXIF: Decodable { let file: String; let orientation: Int; let width: Int; let height: Int; let expected: [Int] }
        struct Encode: Decodable { let quality: Int; let size: Int; let expected: [Int] }
        let png: [Decoded]
        let jpeg: [JPEG]
        let exif: [EXIF]
        let encode: [Encode]
    }

    static let fixture: Fixture = try! Fixtures.json("codecs.json")

    @Test("PNG files written by Pillow decode to Pillow's RGB", .tags(.golden), arguments: fixture.png)
    func pillowPNG(_ c: Fixture.Decoded) throws {
        let image = try Image(contentsOfFile: Fixtures.path(c.file))
        #expect(image.width == c.width && image.height == c.height && image.channels == 3)
        #expect(maxAbsoluteDifference(image.pixels, c.expected) < 1e-6, "\(c.file)")
    }

    @Test("JPEG files written by Pillow decode like Pillow (within 1 level)", .tags(.golden), arguments: fixture.jpeg)
    func pillowJPEG(_ c: Fixture.JPEG) throws {
        let image = try Image(contentsOfFile: Fixtures.path(c.file))
        #expect(image.width == c.width && image.height == c.height)
        let worst = zip(image.levels(), c.expected).map { abs(Int($0) - $1) }.max() ?? 0
        #expect(worst <= 1, "\(c.file): \(worst) levels")
    }

    @Test("EXIF orientation gives Pillow's exif_transpose view", .tags(.golden), arguments: fixture.exif)
    func exif(_ c: Fixture.EXIF) throws {
        let bytes = try Fixtures.bytes(c.file)
        #expect(EXIFOrientation.read(fromJPEG: bytes)?.rawValue == c.orientation)
        let image = try Image(encoded: bytes)
        #expect(image.width == c.width && image.height == c.height, "orientation \(c.orientation)")
        let worst = zip(image.levels(), c.expected).map { abs(Int($0) - $1) }.max() ?? 0
        #expect(worst <= 1, "orientation \(c.orientation): \(worst) levels")
        let stored = try Image(encoded: bytes, options: ImageDecodingOptions(appliesEXIFOrientation: false))
        #expect(stored.width == 16 && stored.height == 8)
    }

    @Test("JPEG quality follows libjpeg's scaling: same pixels as Pillow's encoder", .tags(.golden), arguments: fixture.encode)
    func jpegEncodeMatchesPillow(_ c: Fixture.Encode) throws {
        let source = try Image(contentsOfFile: Fixtures.path("jpeg_encode_source.png"))
        let bytes = try JPEGCodec.encode(source, quality: c.quality)
        let decoded = try Image(encoded: bytes)
        let worst = zip(decoded.levels(), c.expected).map { abs(Int($0) - $1) }.max() ?? 0
        #expect(worst <= 1, "quality \(c.quality): \(worst) levels")
    }

    @Test("Higher JPEG quality gives larger files and smaller errors")
    func jpegQualityMonotone() throws {
        let source = try Image(contentsOfFile: Fixtures.path("jpeg_encode_source.png"))
        var lastSize = 0, lastError = Double.infinity
        for quality in [5, 25, 50, 75, 95] {
            let bytes = try JPEGCodec.encode(source, quality: quality)
            let decoded = try Image(encoded: bytes)
            let error = zip(decoded.pixels, source.pixels).map { Double(abs($0 - $1)) }.reduce(0, +)
            #expect(bytes.count > lastSize && error < lastError, "quality \(quality)")
            lastSize = bytes.count
            lastError = error
        }
    }

    /// Every PNG layout the specification allows survives our encoder and decoder.
    struct Layout: CustomTestStringConvertible, Sendable {
        let type: PNGColorType
        let depth: Int
        let interlaced: Bool
        var testDescription: String { "\(type) \(depth)-bit\(interlaced ? " interlaced" : "")" }
    }

    static let layouts: [Layout] = {
        var all: [Layout] = []
        let depths: [PNGColorType: [Int]] = [.gray: [1, 2, 4, 8, 16], .palette: [1, 2, 4, 8], .rgb: [8, 16],
                                             .grayAlpha: [8, 16], .rgba: [8, 16]]
        for type in PNGColorType.allCases { for depth in depths[type]! { for interlaced in [false, true] {
            all.append(Layout(type: type, depth: depth, interlaced: interlaced))
        } } }
        return all
    }()

    @Test("PNG round trip", arguments: layouts)
    func pngRoundTrip(_ layout: Layout) throws {
        let width = 13, height = 7, maxValue = (1 << layout.depth) - 1
        let paletteSize = min(maxValue + 1, 5)
        var samples: [UInt16] = []
        for y in 0..<height { for x in 0..<width { for c in 0..<layout.type.channels {
            let v = (x * 37 + y * 101 + c * 59) % (layout.type == .palette ? paletteSize : maxValue + 1)
            samples.append(UInt16(v))
        } } }
        var palette: [UInt8] = []
        for i in 0..<paletteSize { palette += [UInt8(i * 40), UInt8(255 - i * 30), UInt8(i * 13)] }
        let bytes = try PNGCodec.encode(samples: samples, width: width, height: height, colorType: layout.type,
                                        bitDepth: layout.depth, interlaced: layout.interlaced,
                                        palette: layout.type == .palette ? palette : [])
        let header = try PNGCodec.header(of: bytes, name: "roundtrip")
        #expect(header.sourceBitDepth == layout.depth && header.interlaced == layout.interlaced)
        let image = try Image(encoded: bytes)
        #expect(image.width == width && image.height == height && image.channels == 3)
        let channels = layout.type.channels
        for y in 0..<height { for x in 0..<width {
            let p = (y * width + x) * channels
            for c in 0..<3 {
                let expected: Double
                switch layout.type {
                case .palette: expected = Double(palette[Int(samples[p]) * 3 + c]) / 255
                case .gray, .grayAlpha: expected = Double(samples[p]) / Double(maxValue)
                case .rgb, .rgba: expected = Double(samples[p + c]) / Double(maxValue)
                }
                #expect(abs(Double(image[y, x, c]) - expected) < 1e-6, "\(layout.testDescription) at \(x),\(y),\(c)")
            }
        } }
    }

    @Test("8-bit PNG and files: write, read back identical")
    func writeRead() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Image(contentsOfFile: Fixtures.path("jpeg_encode_source.png"))
        try source.write(toFile: dir + "/a.png")
        #expect(try Image(contentsOfFile: dir + "/a.png") == source)
        try source.write(toFile: dir + "/a.JPG", jpegQuality: 90)
        let jpeg = try Image(contentsOfFile: dir + "/a.JPG")
        #expect(jpeg.width == source.width && jpeg.height == source.height)
        #expect(try folderContents(dir) == ["a.JPG", "a.png"])   // no temporary files left
    }

    @Test("Gray images encode as 1-channel PNG and decode as RGB")
    func grayPNG() throws {
        let gray = Image(width: 3, height: 2, channels: 1, levels: [0, 50, 100, 150, 200, 255])
        let image = try Image(encoded: try gray.encoded(as: .png))
        #expect(image.channels == 3 && image.levels() == [0, 0, 0, 50, 50, 50, 100, 100, 100, 150, 150, 150, 200, 200, 200, 255, 255, 255])
    }
}
