import SRImage

/// The region of an image shown in the report: a square of `size` HR pixels (a multiple of the
/// scale, at an origin that is a multiple of the scale, so the LR crop is exact) where the HR
/// image has the most detail (largest sum of absolute BT.601 luma gradients), searched on a grid with a
/// quarter-window stride. Images smaller than the window are shown whole.
public struct DetailCrop: Equatable, Sendable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// The most detailed window of `image` (HR), or the whole image when `size` is 0.
    public static func choose(in image: Image, size requested: Int, scale: Int) -> DetailCrop {
        let size = requested / scale * scale
        let (w, h) = (image.width, image.height)
        if size <= 0 || (size >= w && size >= h) { return DetailCrop(x: 0, y: 0, width: w / scale * scale, height: h / scale * scale) }
        let cw = min(size, w / scale * scale), ch = min(size, h / scale * scale)
        // Integral image of |∂x Y| + |∂y Y| (BT.601 luma, computed once).
        let y = (image.channels == 3 ? ColorSpace.luma(fromRGB: image) : image.channel(0)).pixels
        var integral = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for yy in 0..<h {
            var row = 0.0
            for xx in 0..<w {
                let value = Double(y[yy * w + xx])
                row += (xx + 1 < w ? abs(Double(y[yy * w + xx + 1]) - value) : 0) + (yy + 1 < h ? abs(Double(y[(yy + 1) * w + xx]) - value) : 0)
                integral[(yy + 1) * (w + 1) + xx + 1] = integral[yy * (w + 1) + xx + 1] + row
            }
        }
        func energy(_ x0: Int, _ y0: Int) -> Double {
            integral[(y0 + ch) * (w + 1) + x0 + cw] - integral[y0 * (w + 1) + x0 + cw] - integral[(y0 + ch) * (w + 1) + x0] + integral[y0 * (w + 1) + x0]
        }
        let stride = max(scale, size / 4 / scale * scale)
        var best = DetailCrop(x: 0, y: 0, width: cw, height: ch), bestEnergy = -1.0
        for y0 in Swift.stride(from: 0, through: h - ch, by: stride) {
            for x0 in Swift.stride(from: 0, through: w - cw, by: stride) where energy(x0, y0) > bestEnergy {
                bestEnergy = energy(x0, y0)
                best = DetailCrop(x: x0, y: y0, width: cw, height: ch)
            }
        }
        return best
    }

    /// This region of an HR-sized image.
    public func apply(to image: Image) -> Image { image.cropped(x: x, y: y, width: width, height: height) }

    /// The matching region of the LR image.
    public func applyToLowResolution(_ image: Image, scale: Int) -> Image {
        image.cropped(x: x / scale, y: y / scale, width: width / scale, height: height / scale)
    }
}
