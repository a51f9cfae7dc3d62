import Foundation
import SRImage

/// Structural similarity (Wang et al. 2004) on the 0–255 scale.
///
/// Matches: BasicSR 1.4.2 `calculate_ssim`/`_ssim`: 11×11 Gaussian window with σ = 1.5 (OpenCV
/// `getGaussianKernel`), C1 = (0.01·255)², C2 = (0.03·255)², statistics over the 'valid' region
/// (5 pixels trimmed on each side of the filtered maps), mean of the SSIM map, then mean over
/// channels for `.rgb`; no downsampling; Double arithmetic.
public struct SSIM: ImageMetric {
    public var channel: MetricChannel
    public var cropBorder: Int
    public var name: String { "ssim" }

    public init(channel: MetricChannel = .y, cropBorder: Int = 0) {
        self.channel = channel
        self.cropBorder = cropBorder
    }

    /// The normalized 1-D Gaussian of OpenCV `getGaussianKernel(11, 1.5)`.
    static let window: [Double] = {
        let sigma = 1.5
        let raw = (0..<11).map { i -> Double in
            let x = Double(i - 5)
            return exp(-x * x / (2 * sigma * sigma))
        }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }()

    public func callAsFunction(_ image: Image, reference: Image) throws -> Double {
        try checkPair(image, reference)
        let a = try image.metricPlanes(channel, cropBorder: cropBorder)
        let b = try reference.metricPlanes(channel, cropBorder: cropBorder)
        let width = image.width - 2 * cropBorder, height = image.height - 2 * cropBorder
        guard width >= 11, height >= 11 else {
            throw MetricError.tooSmall("SSIM needs at least 11x11 pixels after cropping, got \(width)x\(height)")
        }
        var total = 0.0
        for c in a.indices {
            total += SSIM.ssim(a[c], b[c], width: width, height: height)
        }
        return total / Double(a.count)
    }

    /// 'Valid' separable filtering of a plane with the 11-tap window.
    static func filterValid(_ plane: [Double], width: Int, height: Int) -> [Double] {
        let w = window
        let outWidth = width - 10, outHeight = height - 10
        var rows = [Double](repeating: 0, count: height * outWidth)
        for y in 0..<height {
            for x in 0..<outWidth {
                var s = 0.0
                for k in 0..<11 { s += w[k] * plane[y * width + x + k] }
                rows[y * outWidth + x] = s
            }
        }
        var out = [Double](repeating: 0, count: outHeight * outWidth)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                var s = 0.0
                for k in 0..<11 { s += w[k] * rows[(y + k) * outWidth + x] }
                out[y * outWidth + x] = s
            }
        }
        return out
    }

    static func ssim(_ a: [Double], _ b: [Double], width: Int, height: Int) -> Double {
        let c1: Double = (0.01 * 255) * (0.01 * 255), c2: Double = (0.03 * 255) * (0.03 * 255)
        let mu1 = filterValid(a, width: width, height: height)
        let mu2 = filterValid(b, width: width, height: height)
        let a2 = filterValid(a.map { $0 * $0 }, width: width, height: height)
        let b2 = filterValid(b.map { $0 * $0 }, width: width, height: height)
        let ab = filterValid(zip(a, b).map { (x: Double, y: Double) in x * y }, width: width, height: height)
        var total = 0.0
        for i in mu1.indices {
            let m1 = mu1[i], m2 = mu2[i]
            let s1 = a2[i] - m1 * m1, s2 = b2[i] - m2 * m2, s12 = ab[i] - m1 * m2
            total += ((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (s1 + s2 + c2))
        }
        return total / Double(mu1.count)
    }
}
