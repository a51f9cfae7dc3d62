/// Side-by-side composition, for comparisons.
extension Image {
    /// The images placed left to right, top-aligned, separated by `gap` columns of `background`
    /// (the canvas is as tall as the tallest). All images must have the same channel count.
    public static func sideBySide(_ images: [Image], gap: Int = 4, background: Float = 1) -> Image {
        precondition(!images.isEmpty && images.allSatisfy { $0.channels == images[0].channels }, "images with one channel count")
        let channels = images[0].channels
        let height = images.map(\.height).max()!
        let width = images.map(\.width).reduce(0, +) + gap * (images.count - 1)
        var pixels = [Float](repeating: background, count: width * height * channels)
        var x0 = 0
        for image in images {
            for y in 0..<image.height {
                let source = y * image.width * channels, target = (y * width + x0) * channels
                pixels.replaceSubrange(target..<(target + image.width * channels), with: image.pixels[source..<(source + image.width * channels)])
            }
            x0 += image.width + gap
        }
        return Image(width: width, height: height, channels: channels, pixels: pixels)
    }
}
