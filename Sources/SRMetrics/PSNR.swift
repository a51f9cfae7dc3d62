import Foundation
import SRImage

/// Peak signal-to-noise ratio in dB, `10·log10(255² / MSE)` on the 0–255 scale.
///
/// Matches: BasicSR 1.4.2 `calculate_psnr` (`crop_border` pixels removed from each side,
/// `test_y_channel` = `channel == .y`, Double arithmetic); identical images give `+∞`.
public struct PSNR: ImageMetric {
    public var channel: MetricChannel
    public var cropBorder: Int
    public var name: String { "psnr" }

    public init(channel: MetricChannel = .y, cropBorder: Int = 0) {
        self.channel = channel
        self.cropBorder = cropBorder
    }

    public func callAsFunction(_ image: Image, reference: Image) throws -> Double {
        try checkPair(image, reference)
        let a = try image.metricPlanes(channel, cropBorder: cropBorder)
        let b = try reference.metricPlanes(channel, cropBorder: cropBorder)
        var sum = 0.0, count = 0
        for c in a.indices {
            for i in a[c].indices {
                let d = a[c][i] - b[c][i]
                sum += d * d
            }
            count += a[c].count
        }
        let mse = sum / Double(count)
        if mse == 0 { return .infinity }
        return 10 * log10(255 * 255 / mse)
    }
}
