/// An image held in memory as 32-bit floats.
///
/// Layout: one image of an NHWC batch, i.e. `[height, width, channels]` row-major with the channels
/// of a pixel interleaved (`pixels[(y * width + x) * channels + c]`). Color images have 3 channels
/// in RGB order; single-channel images (gray, or the Y of YCbCr) have 1. Values are nominally in
/// `[0, 1]` (an 8-bit sample `v` is `v / 255`, a 16-bit sample `v / 65535`); operations that can
/// overshoot (bicubic resampling) do not clip unless they say so.
///
/// `Image` is a value type: copies share storage until one of them is mutated (copy on write).
public struct Image: Sendable, Equatable {
    /// Width in pixels (> 0).
    public let width: Int
    /// Height in pixels (> 0).
    public let height: Int
    /// Number of interleaved channels per pixel (1 or 3 for images produced by this module).
    public let channels: Int
    /// The samples, `height * width * channels` of them, in `[height, width, channels]` order.
    public var pixels: [Float]

    /// Creates an image from samples in `[height, width, channels]` order.
    /// - Precondition: `pixels.count == width * height * channels` and all sizes positive.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(width > 0 && height > 0 && channels > 0,
                     "Image size must be positive, got \(width)x\(height)x\(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image \(width)x\(height)x\(channels) needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Creates an image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, repeating value: Float = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [Float](repeating: value, count: width * height * channels))
    }

    /// Number of pixels (`width * height`).
    public var pixelCount: Int { width * height }

    /// The sample at row `y`, column `x`, channel `c`.
    @inlinable
    public subscript(y: Int, x: Int, c: Int) -> Float {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// The rectangle `x..<x+width`, `y..<y+height` of this image.
    /// - Precondition: the rectangle lies inside the image and is not empty.
    public func cropped(x: Int, y: Int, width: Int, height: Int) -> Image {
        precondition(x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= self.width && y + height <= self.height,
                     "crop \(width)x\(height)+\(x)+\(y) outside image \(self.width)x\(self.height)")
        var out = [Float](repeating: 0, count: width * height * channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let rowLength = width * channels
                for row in 0..<height {
                    let from = ((y + row) * self.width + x) * channels
                    let to = row * rowLength
                    for i in 0..<rowLength { dst[to + i] = src[from + i] }
                }
            }
        }
        return Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// This image with `border` pixels removed from each of the four sides (BasicSR's `crop_border`).
    /// - Precondition: the result is not empty.
    public func shaved(by border: Int) -> Image {
        precondition(border >= 0, "border must be non-negative")
        if border == 0 { return self }
        return cropped(x: border, y: border, width: width - 2 * border, height: height - 2 * border)
    }

    /// The top-left part whose width and height are multiples of `factor` (BasicSR's `mod_crop`).
    public func modCropped(to factor: Int) -> Image {
        precondition(factor > 0, "factor must be positive")
        let w = width - width % factor, h = height - height % factor
        if w == width && h == height { return self }
        return cropped(x: 0, y: 0, width: w, height: h)
    }

    /// One channel as a single-channel image.
    public func channel(_ index: Int) -> Image {
        precondition(index >= 0 && index < channels, "channel \(index) out of range 0..<\(channels)")
        if channels == 1 { return self }
        var out = [Float](repeating: 0, count: pixelCount)
        for i in 0..<pixelCount { out[i] = pixels[i * channels + index] }
        return Image(width: width, height: height, channels: 1, pixels: out)
    }

    /// Every sample clipped to `[0, 1]`.
    public func clipped() -> Image { clipped(lower: 0, upper: 1) }

    /// Every sample clamped to `[lower, upper]`.
    public func clipped(lower: Float, upper: Float) -> Image {
        var copy = self
        for i in copy.pixels.indices { copy.pixels[i] = min(max(copy.pixels[i], lower), upper) }
        return copy
    }

    /// Every sample rounded to the nearest 8-bit level (`round(clip(v) * 255) / 255`), as saving to
    /// an 8-bit file and reading it back would give.
    public func quantized() -> Image {
        var copy = self
        for i in copy.pixels.indices { copy.pixels[i] = Float(Image.level(copy.pixels[i])) / 255 }
        return copy
    }

    /// The 8-bit level of a sample: `round(clip(v, 0, 1) * 255)` with ties away from zero.
    @inlinable
    public static func level(_ value: Float) -> UInt8 {
        let scaled = (min(max(value, 0), 1) * 255).rounded(.toNearestOrAwayFromZero)
        return UInt8(scaled)
    }

    /// The samples as 8-bit levels (`level(_:)` of each), in the same order.
    public func levels() -> [UInt8] { pixels.map(Image.level) }

    /// An image from 8-bit levels in `[height, width, channels]` order.
    public init(width: Int, height: Int, channels: Int, levels: [UInt8]) {
        self.init(width: width, height: height, channels: channels, pixels: levels.map { Float($0) / 255 })
    }
}
