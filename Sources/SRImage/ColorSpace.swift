/// Color conversions of the SR evaluation protocol.
///
/// Matches: MATLAB `rgb2ycbcr`/`ycbcr2rgb` and BasicSR `basicsr/utils/color_util.py`
/// (`rgb2ycbcr`, `ycbcr2rgb`, ITU-R BT.601 "studio swing"). For RGB in `[0, 1]`:
/// - Y  = 16  +  65.481 R + 128.553 G +  24.966 B
/// - Cb = 128 −  37.797 R −  74.203 G + 112.0   B
/// - Cr = 128 + 112.0   R −  93.786 G −  18.214 B
/// with Y in `[16, 235]` and Cb, Cr in `[16, 240]` on the 8-bit scale; results here are divided
/// by 255 (BasicSR's float convention), not rounded. Limitations: computed in Float32 like BasicSR.
public enum ColorSpace {
    /// RGB (3 channels, `[0, 1]`) to YCbCr (3 channels, each divided by 255).
    public static func ycbcr(fromRGB image: Image) -> Image {
        precondition(image.channels == 3, "rgb→ycbcr needs 3 channels, got \(image.channels)")
        var out = [Float](repeating: 0, count: image.pixels.count)
        for p in 0..<image.pixelCount {
            let r = image.pixels[p * 3], g = image.pixels[p * 3 + 1], b = image.pixels[p * 3 + 2]
            out[p * 3] = (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255
            out[p * 3 + 1] = (128 - 37.797 * r - 74.203 * g + 112.0 * b) / 255
            out[p * 3 + 2] = (128 + 112.0 * r - 93.786 * g - 18.214 * b) / 255
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: out)
    }

    /// The Y channel only (1 channel, `[16, 235] / 255` for RGB in `[0, 1]`).
    public static func luma(fromRGB image: Image) -> Image {
        precondition(image.channels == 3, "rgb→y needs 3 channels, got \(image.channels)")
        var out = [Float](repeating: 0, count: image.pixelCount)
        for p in 0..<image.pixelCount {
            let r = image.pixels[p * 3], g = image.pixels[p * 3 + 1], b = image.pixels[p * 3 + 2]
            out[p] = (16 + 65.481 * r + 128.553 * g + 24.966 * b) / 255
        }
        return Image(width: image.width, height: image.height, channels: 1, pixels: out)
    }

    /// YCbCr (3 channels, each divided by 255) back to RGB in `[0, 1]` (not clipped).
    ///
    /// Matches BasicSR `ycbcr2rgb`: `[Y Cb Cr]·255 · M⁻¹·255 + offsets`, with
    /// M⁻¹ = [[0.00456621, 0.00456621, 0.00456621], [0, −0.00153632, 0.00791071],
    /// [0.00625893, −0.00318811, 0]] and offsets (−222.921, 135.576, −276.836)/255.
    public static func rgb(fromYCbCr image: Image) -> Image {
        precondition(image.channels == 3, "ycbcr→rgb needs 3 channels, got \(image.channels)")
        var out = [Float](repeating: 0, count: image.pixels.count)
        for p in 0..<image.pixelCount {
            let y = image.pixels[p * 3] * 255, cb = image.pixels[p * 3 + 1] * 255, cr = image.pixels[p * 3 + 2] * 255
            out[p * 3] = y * 0.00456621 + cr * 0.00625893 - 222.921 / 255
            out[p * 3 + 1] = y * 0.00456621 - cb * 0.00153632 - cr * 0.00318811 + 135.576 / 255
            out[p * 3 + 2] = y * 0.00456621 + cb * 0.00791071 - 276.836 / 255
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: out)
    }
}
