/// The file formats `SRImage` reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png
    case jpeg

    /// The format of encoded bytes, from their signature, or `nil` when neither PNG nor JPEG.
    public static func detect<Bytes: Collection>(_ bytes: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(8))
        if head.count >= 8 && head == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        if head.count >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF { return .jpeg }
        return nil
    }

    /// The format named by a file name's extension (`.png`, `.jpg`, `.jpeg`, any case), or `nil`.
    public init?(path: String) {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }

    /// Whether a file name has an extension this module reads (`png`, `jpg`, `jpeg`).
    public static func isImagePath(_ path: String) -> Bool { ImageFormat(path: path) != nil }
}

/// Options for decoding.
public struct ImageDecodingOptions: Sendable {
    /// Images with more pixels than this are refused from their header, before any pixel is
    /// decoded (a guard against decompression bombs). Default 100 megapixels.
    public var pixelLimit: Int
    /// Apply the EXIF orientation tag of JPEG files (rotate/flip to the upright view). Default true.
    public var appliesEXIFOrientation: Bool

    public init(pixelLimit: Int = 100_000_000, appliesEXIFOrientation: Bool = true) {
        self.pixelLimit = pixelLimit
        self.appliesEXIFOrientation = appliesEXIFOrientation
    }
}
