import SRImage

/// A full-reference image metric: compares an image with its ground truth.
public protocol ImageMetric: Sendable {
    /// The metric's short name (`psnr`, `ssim`, …).
    var name: String { get }
    /// The score of `image` against `reference` (same size and channel count).
    func callAsFunction(_ image: Image, reference: Image) throws -> Double
}

/// Which samples a metric sees.
public enum MetricChannel: String, Sendable, CaseIterable, Codable {
    /// The Y of BT.601 YCbCr, MATLAB convention (`ColorSpace.luma`), on the 0–255 scale.
    case y
    /// The three RGB channels on the 0–255 scale.
    case rgb
}

/// Errors a metric reports for inputs it cannot score.
public enum MetricError: Error, Equatable, CustomStringConvertible {
    case sizeMismatch(image: String, reference: String)
    case channelMismatch(image: Int, reference: Int)
    case tooSmall(String)
    case parameters(String)

    public var description: String {
        switch self {
        case .sizeMismatch(let a, let b): return "image is \(a) but its reference is \(b)"
        case .channelMismatch(let a, let b): return "image has \(a) channels but its reference has \(b)"
        case .tooSmall(let message): return message
        case .parameters(let message): return message
        }
    }
}

extension Image {
    /// The samples a metric on `channel` sees, on the 0–255 scale in Double, after removing
    /// `border` pixels from each side. For `.y` the image must be RGB (or already one channel).
    func metricPlanes(_ channel: MetricChannel, cropBorder border: Int) throws -> [[Double]] {
        guard width > 2 * border, height > 2 * border else {
            throw MetricError.tooSmall("a crop border of \(border) leaves nothing of a \(width)x\(height) image")
        }
        let shaved = self.shaved(by: border)
        let source: Image
        switch channel {
        case .y: source = shaved.channels == 1 ? shaved : ColorSpace.luma(fromRGB: shaved)
        case .rgb: source = shaved
        }
        return (0..<source.channels).map { c in
            (0..<source.pixelCount).map { Double(source.pixels[$0 * source.channels + c]) * 255 }
        }
    }
}

func checkPair(_ image: Image, _ reference: Image) throws {
    guard image.width == reference.width, image.height == reference.height else {
        throw MetricError.sizeMismatch(image: "\(image.width)x\(image.height)", reference: "\(reference.width)x\(reference.height)")
    }
    guard image.channels == reference.channels else {
        throw MetricError.channelMismatch(image: image.channels, reference: reference.channels)
    }
}
