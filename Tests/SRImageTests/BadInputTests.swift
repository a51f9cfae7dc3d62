import Foundation
import Testing
import SRImage
import _TestSupport

@Suite("Bad input: typed errors naming the file, nothing left behind", .tags(.badInput))
struct BadInputTests {
    static func expectError(_ bytes: [UInt8], _ check: (ImageError) -> Bool, options: ImageDecodingOptions = .init(),
                            sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Image(encoded: bytes, name: "sample.img", options: options)
            Issue.record("decoding succeeded", sourceLocation: sourceLocation)
        } catch let error as ImageError {
            #expect(check(error), "unexpected error \(error)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("sample.img"), sourceLocation: sourceLocation)
        } catch {
            Issue.record("untyped error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("Truncated PNG", arguments: [20, 60, 0.5, 0.9] as [Double])
    func truncatedPNG(_ cut: Double) throws {
        let bytes = try Fixtures.bytes("png_rgb.png")
        let keep = cut < 1 ? Int(Double(bytes.count) * cut) : Int(cut)
        Self.expectError(Array(bytes.prefix(keep))) {
            if case .truncated = $0 { return true }
            if case .corrupt = $0 { return true }   // a cut inside a chunk can also fail its CRC
            return false
        }
    }

    @Test("Truncated JPEG", arguments: [0.3, 0.6, 0.95])
    func truncatedJPEG(_ cut: Double) throws {
        for file in ["jpeg_q95.jpg", "jpeg_progressive.jpg"] {
            let bytes = try Fixtures.bytes(file)
            Self.expectError(Array(bytes.prefix(Int(Double(bytes.count) * cut)))) {
                if case .truncated = $0 { return true }
                if case .corrupt = $0 { return true }
                return false
            }
        }
    }

    @Test("Garbage, empty and other formats")
    func garbage() {
        Self.expectError(Array("GIF89a not an image at all".utf8)) { $0 == .unsupportedFormat(path: "sample.img") }
        Self.expectError([]) { if case .truncated = $0 { return true }; return false }
        var fakePNG: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        fakePNG += [UInt8](repeating: 0x42, count: 64)
        Self.expectError(fakePNG) { if case .corrupt = $0 { return true }; if case .truncated = $0 { return true }; return false }
        var fakeJPEG: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]
        fakeJPEG += [UInt8](repeating: 0x13, count: 64)
        Self.expectError(fakeJPEG) { if case .corrupt = $0 { return true }; if case .truncated = $0 { return true }; return false }
    }

    @Test("Zero width in the PNG header")
    func zeroSize() throws {
        var bytes = try Fixtures.bytes("png_rgb.png")
        // IHDR data starts at byte 16: width (4 bytes, big endian). Zero it, with and without a valid CRC.
        for i in 16..<20 { bytes[i] = 0 }
        Self.expectError(bytes) { $0 == .emptyImage(path: "sample.img") }
        patchCRC(&bytes, chunkStart: 8)
        Self.expectError(bytes) { $0 == .emptyImage(path: "sample.img") }
    }

    @Test("Over the pixel limit: refused from the header")
    func pixelLimit() throws {
        for file in ["png_rgb.png", "jpeg_q95.jpg"] {
            Self.expectError(try Fixtures.bytes(file), { $0 == .tooLarge(path: "sample.img", width: 16, height: 12, limit: 100) },
                             options: ImageDecodingOptions(pixelLimit: 100))
        }
        // A 60000x60000 header (3.6 gigapixels) is refused before any allocation.
        let big = try PNGCodec.encode(samples: [0], width: 1, height: 1, colorType: .gray, bitDepth: 8)
        var patched = big
        let side: [UInt8] = [0x00, 0x00, 0xEA, 0x60]
        for i in 0..<4 { patched[16 + i] = side[i]; patched[20 + i] = side[i] }
        patchCRC(&patched, chunkStart: 8)
        Self.expectError(patched) { $0 == .tooLarge(path: "sample.img", width: 60000, height: 60000, limit: 100_000_000) }
    }

    /// Recomputes the CRC of the chunk starting at `chunkStart` (length field).
    func patchCRC(_ bytes: inout [UInt8], chunkStart: Int) {
        let length = Int(bytes[chunkStart]) << 24 | Int(bytes[chunkStart + 1]) << 16 | Int(bytes[chunkStart + 2]) << 8 | Int(bytes[chunkStart + 3])
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes[(chunkStart + 4)..<(chunkStart + 8 + length)] {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        crc ^= 0xFFFF_FFFF
        let at = chunkStart + 8 + length
        bytes[at] = UInt8(crc >> 24); bytes[at + 1] = UInt8(crc >> 16 & 0xFF); bytes[at + 2] = UInt8(crc >> 8 & 0xFF); bytes[at + 3] = UInt8(crc & 0xFF)
    }

    @Test("Missing files and folders")
    func unreadable() {
        #expect(throws: ImageError.unreadable(path: "/nonexistent/x.png", reason: "no such file")) {
            try Image(contentsOfFile: "/nonexistent/x.png")
        }
        #expect(throws: ImageError.unreadable(path: "/tmp", reason: "is a folder")) { try Image(contentsOfFile: "/tmp") }
    }

    @Test("Unwritable outputs leave no file")
    func unwritable() throws {
        let dir = try makeTemporaryDirectory()
        defer {
            chmod(dir + "/locked", 0o755)
            try? FileManager.default.removeItem(atPath: dir)
        }
        let image = Image(width: 4, height: 4, channels: 3, repeating: 0.5)
        #expect(throws: ImageError.self) { try image.write(toFile: dir + "/missing/out.png") }
        #expect(throws: ImageError.self) { try image.write(toFile: dir + "/out.bmp") }
        #expect(throws: ImageError.self) { try image.write(toFile: dir + "/out.jpg", jpegQuality: 0) }
        try FileManager.default.createDirectory(atPath: dir + "/locked", withIntermediateDirectories: false)
        chmod(dir + "/locked", 0o555)
        if geteuid() != 0 {   // root ignores directory permissions
            #expect(throws: ImageError.self) { try image.write(toFile: dir + "/locked/out.png") }
        }
        // Writing into /proc is refused even for root.
        #expect(throws: ImageError.self) { try image.write(toFile: "/proc/diffsr-test.png") }
        #expect(try folderContents(dir) == ["locked"])
        #expect(try folderContents(dir + "/locked").isEmpty)
    }

    @Test("A failed write keeps the previous file intact")
    func previousFileKept() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = Image(width: 2, height: 2, channels: 3, repeating: 0.25)
        try first.write(toFile: dir + "/out.png")
        let bad = Image(width: 2, height: 2, channels: 4, repeating: 0.5)   // 4 channels cannot be encoded
        #expect(throws: ImageError.self) { try bad.write(toFile: dir + "/out.png") }
        #expect(try Image(contentsOfFile: dir + "/out.png").levels() == first.levels() + [])
        #expect(try folderContents(dir) == ["out.png"])
    }
}
