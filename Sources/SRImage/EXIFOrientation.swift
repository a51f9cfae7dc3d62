/// The EXIF orientation tag (0x0112) values and their effect on pixels.
///
/// Matches: the TIFF/EXIF 2.3 definition, as Pillow's `ImageOps.exif_transpose` applies it.
public enum EXIFOrientation: Int, Sendable, CaseIterable {
    case up = 1, upMirrored = 2, down = 3, downMirrored = 4
    case leftMirrored = 5, right = 6, rightMirrored = 7, left = 8

    /// The upright image for a stored image with this orientation.
    public func applied(to image: Image) -> Image {
        switch self {
        case .up: return image
        case .upMirrored: return image.remapped(width: image.width, height: image.height) { x, y in (image.width - 1 - x, y) }
        case .down: return image.remapped(width: image.width, height: image.height) { x, y in (image.width - 1 - x, image.height - 1 - y) }
        case .downMirrored: return image.remapped(width: image.width, height: image.height) { x, y in (x, image.height - 1 - y) }
        case .leftMirrored: return image.remapped(width: image.height, height: image.width) { x, y in (y, x) }
        case .right: return image.remapped(width: image.height, height: image.width) { x, y in (y, image.height - 1 - x) }
        case .rightMirrored: return image.remapped(width: image.height, height: image.width) { x, y in (image.width - 1 - y, image.height - 1 - x) }
        case .left: return image.remapped(width: image.height, height: image.width) { x, y in (image.width - 1 - y, x) }
        }
    }

    /// The orientation stored in a JPEG's APP1 EXIF segment, or `nil` when there is none (or it is
    /// malformed, which viewers also ignore).
    public static func read(fromJPEG bytes: [UInt8]) -> EXIFOrientation? {
        guard bytes.count > 4, bytes[0] == 0xFF, bytes[1] == 0xD8 else { return nil }
        var offset = 2
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { return nil }
            let marker = bytes[offset + 1]
            if marker == 0xFF { offset += 1; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { offset += 2; continue }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { return nil }
            let start = offset + 4, end = offset + 2 + length
            if marker == 0xE1, end - start >= 14, Array(bytes[start..<(start + 6)]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                if let value = orientation(inTIFF: bytes, from: start + 6, to: end) { return value }
            }
            offset = end
        }
        return nil
    }

    /// Finds tag 0x0112 in IFD0 of the TIFF structure in `bytes[from..<to]`.
    private static func orientation(inTIFF bytes: [UInt8], from base: Int, to end: Int) -> EXIFOrientation? {
        guard base + 8 <= end else { return nil }
        let little: Bool
        switch (bytes[base], bytes[base + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at + 2 <= end else { return nil }
            return little ? Int(bytes[at]) | Int(bytes[at + 1]) << 8 : Int(bytes[at]) << 8 | Int(bytes[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(base + 2) == 42, let ifd = u32(base + 4), let count = u16(base + ifd) else { return nil }
        for i in 0..<count {
            let entry = base + ifd + 2 + 12 * i
            guard let tag = u16(entry) else { return nil }
            if tag == 0x0112 {
                guard let type = u16(entry + 2), type == 3, let value = u16(entry + 8) else { return nil }
                return EXIFOrientation(rawValue: value)
            }
        }
        return nil
    }
}

extension Image {
    /// A new `width`×`height` image whose pixel (x, y) is this image's pixel `source(x, y)`.
    func remapped(width: Int, height: Int, _ source: (Int, Int) -> (Int, Int)) -> Image {
        var out = [Float](repeating: 0, count: width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                let (sx, sy) = source(x, y)
                let from = (sy * self.width + sx) * channels, to = (y * width + x) * channels
                for c in 0..<channels { out[to + c] = pixels[from + c] }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }
}
