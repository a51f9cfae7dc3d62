import Foundation
import SRSupport

extension Image {
    /// Reads and decodes a PNG or JPEG file (the format is taken from the bytes, not the name).
    ///
    /// The result is RGB (`channels == 3`) in `[0, 1]`; see `PNGCodec` and `JPEGCodec` for how each
    /// layout is converted.
    /// - Throws: `ImageError` naming `path`: unreadable, unsupported format, truncated, corrupt,
    ///   empty, or over `options.pixelLimit` (checked from the header, before decoding).
    public init(contentsOfFile path: String, options: ImageDecodingOptions = .init()) throws {
        self = try Image(encoded: try Image.readBytes(path), name: path, options: options)
    }

    /// Decodes PNG or JPEG bytes; `name` is used in errors.
    public init(encoded bytes: [UInt8], name: String = "<memory>", options: ImageDecodingOptions = .init()) throws {
        if bytes.isEmpty { throw ImageError.truncated(path: name, detail: "file is empty") }
        switch ImageFormat.detect(bytes) {
        case .png: self = try PNGCodec.decode(bytes, name: name, options: options)
        case .jpeg: self = try JPEGCodec.decode(bytes, name: name, options: options)
        case nil: throw ImageError.unsupportedFormat(path: name)
        }
    }

    /// The image encoded as `format`: an 8-bit PNG (gray or RGB), or a JPEG at `jpegQuality`
    /// (1…100, libjpeg semantics). Samples are clipped to `[0, 1]` and rounded to 8 bits.
    public func encoded(as format: ImageFormat, jpegQuality: Int = 95) throws -> [UInt8] {
        switch format {
        case .png: return try PNGCodec.encode(self)
        case .jpeg: return try JPEGCodec.encode(self, quality: jpegQuality)
        }
    }

    /// Encodes and writes the image atomically (temporary file, then rename: no partial file is
    /// ever left at `path`). The format follows the extension (`.png`, `.jpg`, `.jpeg`) unless given.
    /// - Throws: `ImageError.invalidArgument` for an unknown extension, `.unwritable` when the file
    ///   cannot be written.
    public func write(toFile path: String, format: ImageFormat? = nil, jpegQuality: Int = 95) throws {
        guard let format = format ?? ImageFormat(path: path) else {
            throw ImageError.invalidArgument("\(path): cannot tell the output format from the extension (use .png, .jpg or .jpeg)")
        }
        let bytes = try encoded(as: format, jpegQuality: jpegQuality)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as AtomicFileError {
            throw ImageError.unwritable(path: error.path, reason: error.reason)
        }
    }

    /// The bytes of a file, with the reasons a user can act on.
    static func readBytes(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageError.unreadable(path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw ImageError.unreadable(path: path, reason: "is a folder") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ImageError.unreadable(path: path, reason: "permission denied or I/O error")
        }
        return [UInt8](data)
    }
}
