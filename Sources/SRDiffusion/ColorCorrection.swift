import Foundation
import SRImage

/// StableSR's color correction of a super-resolved image against the upsampled LR image of the
/// same size (diffusion outputs drift in color; the LR's colors are trusted).
///
/// Matches: StableSR `scripts/wavelet_color_fix.py` (credited to pkuliyi2015's sd-webui-stablesr):
/// - `adain`: per channel, out = (x − μ_x)/σ_x·σ_lr + μ_lr with σ = √(unbiased variance + 1e−5);
/// - `wavelet`: 5 levels of a [[1,2,1],[2,4,2],[1,2,1]]/16 blur with dilation 1, 2, 4, 8, 16 and
///   replicate padding; out = (x − low₅(x)) + low₅(lr).
/// Results are clipped to [0, 1] (the reference's PIL wrappers clamp).
public enum ColorCorrection: String, Sendable, CaseIterable, Codable {
    case none, adain, wavelet

    public func apply(_ image: Image, reference: Image) -> Image {
        precondition(image.width == reference.width && image.height == reference.height && image.channels == reference.channels,
                     "color correction needs images of the same size")
        switch self {
        case .none: return image
        case .adain: return ColorCorrection.adain(image, reference).clipped()
        case .wavelet: return ColorCorrection.wavelet(image, reference).clipped()
        }
    }

    /// The correction without the final clipping, for images in any range (StableSR applies it to
    /// the decoder's output in [−1, 1] before it clamps; AdaIN's ε makes the range matter).
    public func corrected(_ image: Image, reference: Image) -> Image {
        precondition(image.width == reference.width && image.height == reference.height && image.channels == reference.channels,
                     "color correction needs images of the same size")
        switch self {
        case .none: return image
        case .adain: return ColorCorrection.adain(image, reference)
        case .wavelet: return ColorCorrection.wavelet(image, reference)
        }
    }

    static func statistics(_ image: Image, channel c: Int) -> (mean: Double, deviation: Double) {
        let n = image.pixelCount
        var sum = 0.0
        for p in 0..<n { sum += Double(image.pixels[p * image.channels + c]) }
        let mean = sum / Double(n)
        var squares = 0.0
        for p in 0..<n { let d = Double(image.pixels[p * image.channels + c]) - mean; squares += d * d }
        return (mean, (squares / Double(max(n - 1, 1)) + 1e-5).squareRoot())
    }

    static func adain(_ content: Image, _ style: Image) -> Image {
        var out = content
        for c in 0..<content.channels {
            let (mc, sc) = statistics(content, channel: c), (ms, ss) = statistics(style, channel: c)
            for p in 0..<content.pixelCount {
                let i = p * content.channels + c
                out.pixels[i] = Float((Double(content.pixels[i]) - mc) / sc * ss + ms)
            }
        }
        return out
    }

    /// One level of the dilated binomial blur with replicate padding.
    static func blur(_ image: Image, dilation r: Int) -> Image {
        let (w, h, ch) = (image.width, image.height, image.channels)
        let taps: [(Int, Float)] = [(-r, 1), (0, 2), (r, 1)]
        var rows = image
        for y in 0..<h { for x in 0..<w { for c in 0..<ch {
            var s: Float = 0
            for (dx, weight) in taps { s += weight * image[y, min(max(x + dx, 0), w - 1), c] }
            rows[y, x, c] = s / 4
        } } }
        var out = rows
        for y in 0..<h { for x in 0..<w { for c in 0..<ch {
            var s: Float = 0
            for (dy, weight) in taps { s += weight * rows[min(max(y + dy, 0), h - 1), x, c] }
            out[y, x, c] = s / 4
        } } }
        return out
    }

    static func lowFrequency(_ image: Image) -> Image {
        var low = image
        for level in 0..<5 { low = blur(low, dilation: 1 << level) }
        return low
    }

    static func wavelet(_ content: Image, _ style: Image) -> Image {
        let contentLow = lowFrequency(content), styleLow = lowFrequency(style)
        var out = content
        for i in out.pixels.indices { out.pixels[i] = content.pixels[i] - contentLow.pixels[i] + styleLow.pixels[i] }
        return out
    }
}
