import Foundation
import _CJPEG

/// JPEG decoding and encoding through libjpeg-turbo.
///
/// Decoding accepts baseline and progressive files, grayscale (replicated to RGB), YCbCr/RGB and
/// CMYK/YCCK (converted as Adobe stores it, inverted); the EXIF orientation tag is applied unless
/// the options say otherwise. A file that ends early is an error, not a partly gray image.
///
/// Encoding uses libjpeg's defaults with `jpeg_set_quality(q, force_baseline: true)`: the IJG
/// scaling of the standard quantization tables that Pillow (`Image.save(quality=q)`) and OpenCV
/// (`IMWRITE_JPEG_QUALITY`) use, 4:2:0 chroma subsampling, the integer DCT. SR3+ degradations rely
/// on these semantics.
public enum JPEGCodec {
    /// Decodes JPEG bytes to an RGB image. `name` is used in errors.
    public static func decode(_ bytes: [UInt8], name: String, options: ImageDecodingOptions = .init()) throws -> Image {
        var info = srjpeg_info()
        var status = bytes.withUnsafeBufferPointer { srjpeg_decode($0.baseAddress, $0.count, &info, nil, 0) }
        if status != 0 { throw failure(info, name: name) }
        let width = Int(info.width), height = Int(info.height), channels = Int(info.channels)
        if width == 0 || height == 0 { throw ImageError.emptyImage(path: name) }
        if width * height > options.pixelLimit {
            throw ImageError.tooLarge(path: name, width: width, height: height, limit: options.pixelLimit)
        }
        var raw = [UInt8](repeating: 0, count: width * height * channels)
        status = bytes.withUnsafeBufferPointer { src in
            raw.withUnsafeMutableBufferPointer { out in
                srjpeg_decode(src.baseAddress, src.count, &info, out.baseAddress, out.count)
            }
        }
        if status != 0 { throw failure(info, name: name) }
        var pixels = [Float](repeating: 0, count: width * height * 3)
        for p in 0..<(width * height) {
            switch channels {
            case 1:
                let v = Float(raw[p]) / 255
                pixels[p * 3] = v; pixels[p * 3 + 1] = v; pixels[p * 3 + 2] = v
            case 4:
                // Adobe CMYK JPEGs store inverted values: R = C' * K' / 255 with C' = 255 - C.
                let k = Float(raw[p * 4 + 3])
                for c in 0..<3 { pixels[p * 3 + c] = (Float(raw[p * 4 + c]) * k / 255).rounded() / 255 }
            default:
                for c in 0..<3 { pixels[p * 3 + c] = Float(raw[p * 3 + c]) / 255 }
            }
        }
        let image = Image(width: width, height: height, channels: 3, pixels: pixels)
        guard options.appliesEXIFOrientation, let orientation = EXIFOrientation.read(fromJPEG: bytes) else {
            return image
        }
        return orientation.applied(to: image)
    }

    /// Encodes an image (1 or 3 channels, clipped to `[0, 1]` and rounded to 8 bits) at `quality`
    /// in `1...100`.
    public static func encode(_ image: Image, quality: Int) throws -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw ImageError.invalidArgument("JPEG quality must be in 1...100, got \(quality)")
        }
        guard image.channels == 1 || image.channels == 3 else {
            throw ImageError.invalidArgument("JPEG encoding needs 1 or 3 channels, got \(image.channels)")
        }
        let levels = image.levels()
        var info = srjpeg_info()
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = levels.withUnsafeBufferPointer { src in
            srjpeg_encode(src.baseAddress, UInt32(image.width), UInt32(image.height), Int32(image.channels),
                          Int32(quality), &output, &size, &info)
        }
        defer { free(output) }
        if status != 0 || output == nil {
            throw ImageError.invalidArgument("JPEG encode failed: \(message(info))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(size)))
    }

    private static func message(_ info: srjpeg_info) -> String {
        withUnsafeBytes(of: info.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    private static func failure(_ info: srjpeg_info, name: String) -> ImageError {
        let text = message(info)
        if info.truncated != 0 || text.contains("truncated") || text.contains("Empty input buffer") {
            return .truncated(path: name, detail: text)
        }
        if text.contains("Not a JPEG file") { return .unsupportedFormat(path: name) }
        if text.contains("Empty JPEG image") || text.contains("Bogus") && (text.contains("image size") || text.contains("dimension")) {
            return .emptyImage(path: name)
        }
        return .corrupt(path: name, detail: text.isEmpty ? "libjpeg error" : text)
    }
}
