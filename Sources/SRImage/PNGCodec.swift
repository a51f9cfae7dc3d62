import _CPNG
import Foundation

/// PNG color types, as in the PNG specification.
public enum PNGColorType: Int32, Sendable, CaseIterable {
    case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

    /// Samples per pixel in the uncompressed data.
    public var channels: Int {
        switch self {
        case .gray, .palette: return 1
        case .grayAlpha: return 2
        case .rgb: return 3
        case .rgba: return 4
        }
    }
}

/// PNG decoding and encoding through libpng.
///
/// Decoding accepts every PNG the specification allows: bit depths 1/2/4/8/16, gray, gray+alpha,
/// palette (with or without transparency), RGB, RGBA, Adam7-interlaced or not. Images are returned
/// as RGB: gray is replicated to three channels, palettes are expanded, and alpha is dropped
/// (the SR pipelines here work on opaque RGB). 16-bit samples keep their full precision (`v / 65535`).
public enum PNGCodec {
    /// Header facts read without decoding pixels.
    public struct Header: Sendable, Equatable {
        public var width: Int
        public var height: Int
        public var sourceBitDepth: Int
        public var colorType: Int
        public var interlaced: Bool
    }

    /// Reads the header of PNG bytes. `name` is used in errors.
    public static func header(of bytes: [UInt8], name: String) throws -> Header {
        var info = srpng_info()
        let status = bytes.withUnsafeBufferPointer { buffer in
            srpng_decode(buffer.baseAddress, buffer.count, &info, nil, 0)
        }
        if status != 0 { throw failure(info, name: name) }
        return Header(width: Int(info.width), height: Int(info.height), sourceBitDepth: Int(info.sourceBitDepth),
                      colorType: Int(info.sourceColorType), interlaced: info.interlaced != 0)
    }

    /// Decodes PNG bytes to an RGB image. `name` is used in errors.
    public static func decode(_ bytes: [UInt8], name: String, options: ImageDecodingOptions = .init()) throws -> Image {
        // libpng only says "Invalid IHDR data" for a zero size: read the IHDR fields first.
        if bytes.count >= 24, Array(bytes[12..<16]) == Array("IHDR".utf8),
           bytes[16..<20].allSatisfy({ $0 == 0 }) || bytes[20..<24].allSatisfy({ $0 == 0 }) {
            throw ImageError.emptyImage(path: name)
        }
        var info = srpng_info()
        var status = bytes.withUnsafeBufferPointer { buffer in
            srpng_decode(buffer.baseAddress, buffer.count, &info, nil, 0)
        }
        if status != 0 { throw failure(info, name: name) }
        let width = Int(info.width), height = Int(info.height)
        if width == 0 || height == 0 { throw ImageError.emptyImage(path: name) }
        if width * height > options.pixelLimit {
            throw ImageError.tooLarge(path: name, width: width, height: height, limit: options.pixelLimit)
        }
        let channels = Int(info.channels)
        let sampleBytes = info.bitDepth == 16 ? 2 : 1
        var raw = [UInt8](repeating: 0, count: width * height * channels * sampleBytes)
        status = bytes.withUnsafeBufferPointer { buffer in
            raw.withUnsafeMutableBufferPointer { out in
                srpng_decode(buffer.baseAddress, buffer.count, &info, out.baseAddress, out.count)
            }
        }
        if status != 0 { throw failure(info, name: name) }
        var pixels = [Float](repeating: 0, count: width * height * 3)
        let colorChannels = channels >= 3 ? 3 : 1
        raw.withUnsafeBytes { rawBytes in
            pixels.withUnsafeMutableBufferPointer { dst in
                if sampleBytes == 2 {
                    let src = rawBytes.bindMemory(to: UInt16.self)
                    for p in 0..<(width * height) {
                        for c in 0..<3 {
                            dst[p * 3 + c] = Float(src[p * channels + (colorChannels == 3 ? c : 0)]) / 65535
                        }
                    }
                } else {
                    let src = rawBytes.bindMemory(to: UInt8.self)
                    for p in 0..<(width * height) {
                        for c in 0..<3 {
                            dst[p * 3 + c] = Float(src[p * channels + (colorChannels == 3 ? c : 0)]) / 255
                        }
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: pixels)
    }

    /// Encodes an image (1 or 3 channels, values clipped to `[0, 1]`) as an 8-bit gray or RGB PNG.
    public static func encode(_ image: Image, bitDepth: Int = 8) throws -> [UInt8] {
        guard image.channels == 1 || image.channels == 3 else {
            throw ImageError.invalidArgument("PNG encoding needs 1 or 3 channels, got \(image.channels)")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImageError.invalidArgument("PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
        let type: PNGColorType = image.channels == 1 ? .gray : .rgb
        let samples: [UInt16] = image.pixels.map { v in
            let clipped = min(max(v, 0), 1)
            return bitDepth == 8 ? UInt16(Image.level(clipped))
                                 : UInt16((clipped * 65535).rounded(.toNearestOrAwayFromZero))
        }
        return try encode(samples: samples, width: image.width, height: image.height,
                          colorType: type, bitDepth: bitDepth)
    }

    /// Encodes raw samples in any PNG layout: `samples` holds `width * height * colorType.channels`
    /// values in row-major interleaved order, each below `2^bitDepth` (palette indices for
    /// `.palette`, whose `palette` gives RGB triples).
    public static func encode(samples: [UInt16], width: Int, height: Int, colorType: PNGColorType,
                              bitDepth: Int, interlaced: Bool = false, palette: [UInt8] = [],
                              compressionLevel: Int = 6) throws -> [UInt8] {
        let allowed: [Int]
        switch colorType {
        case .gray: allowed = [1, 2, 4, 8, 16]
        case .palette: allowed = [1, 2, 4, 8]
        default: allowed = [8, 16]
        }
        guard allowed.contains(bitDepth) else {
            throw ImageError.invalidArgument("PNG color type \(colorType) does not allow bit depth \(bitDepth)")
        }
        guard width > 0, height > 0, samples.count == width * height * colorType.channels else {
            throw ImageError.invalidArgument("PNG encode: \(samples.count) samples do not fill \(width)x\(height)x\(colorType.channels)")
        }
        let maxValue = (1 << bitDepth) - 1
        guard samples.allSatisfy({ Int($0) <= maxValue }) else {
            throw ImageError.invalidArgument("PNG encode: a sample exceeds \(maxValue) for bit depth \(bitDepth)")
        }
        if colorType == .palette {
            guard palette.count % 3 == 0, (1...256).contains(palette.count / 3),
                  samples.allSatisfy({ Int($0) < palette.count / 3 }) else {
                throw ImageError.invalidArgument("PNG encode: invalid palette for the given indices")
            }
        }
        var packed: [UInt8]
        if bitDepth == 16 {
            packed = [UInt8](repeating: 0, count: samples.count * 2)
            packed.withUnsafeMutableBytes { raw in
                let dst = raw.bindMemory(to: UInt16.self)
                for i in samples.indices { dst[i] = samples[i] }
            }
        } else {
            packed = samples.map { UInt8($0) }
        }
        var sink = srpng_sink()
        var info = srpng_info()
        let status = packed.withUnsafeBufferPointer { src in
            palette.withUnsafeBufferPointer { pal in
                srpng_encode(src.baseAddress, UInt32(width), UInt32(height), colorType.rawValue, Int32(bitDepth),
                             interlaced ? 1 : 0, pal.baseAddress, Int32(palette.count / 3), Int32(compressionLevel),
                             &sink, &info)
            }
        }
        if status != 0 {
            throw ImageError.invalidArgument("PNG encode failed: \(message(info))")
        }
        defer { free(sink.data) }
        return Array(UnsafeBufferPointer(start: sink.data, count: sink.size))
    }

    private static func message(_ info: srpng_info) -> String {
        withUnsafeBytes(of: info.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func failure(_ info: srpng_info, name: String) -> ImageError {
        let text = message(info)
        if text.contains("bad signature") { return .unsupportedFormat(path: name) }
        if text.contains("truncated") || text.contains("Read Error") || text.contains("Not enough image data") {
            return .truncated(path: name, detail: text)
        }
        return .corrupt(path: name, detail: text.isEmpty ? "libpng error" : text)
    }
}
