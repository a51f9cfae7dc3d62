import Foundation
import SRImage
import SRSupport
import SRTensor

/// The elementary degradations, on RGB images in [0, 1] (Float32).
public enum DegradationOperations {
    /// Correlation with `kernel` after reflect padding of k/2 (BasicSR `filter2D`), through the
    /// engine's oneDNN convolution (channels as the batch axis).
    /// Rank-1 kernels (isotropic and axis-aligned Gaussians: USM's 51×51 among them) take the
    /// separable path, two 1-D passes, k/2 times cheaper and equal up to float rounding.
    public static func blur(_ image: Image, kernel: BlurKernel) -> Image {
        if kernel.size == 1 && kernel.values[0] == 1 { return image }
        if let (column, row) = kernel.separableFactors { return separableBlur(image, column: column, row: row) }
        let (w, h, c) = (image.width, image.height, image.channels)
        let half = kernel.size / 2
        if half >= w || half >= h { return smallImageBlur(image, kernel: kernel) }
        let planes = Tensor(shape: [1, h, w, c], values: image.pixels).permuted([3, 1, 2, 0])   // [C, H, W, 1]
        let padded = planes.padded(top: half, bottom: half, left: half, right: half, mode: .reflect)
        let weights = Tensor(shape: [1, kernel.size, kernel.size, 1], values: kernel.values.map(Float.init))
        let out = withoutGradients { Tensor.conv2d(padded, weights: weights, padding: 0) }.permuted([3, 1, 2, 0])
        return Image(width: w, height: h, channels: c, pixels: out.scalars)
    }

    /// Correlation with the kernel column ⊗ row (both of odd length k), reflect-padded by k/2:
    /// a horizontal pass with `row`, then a vertical pass with `column`, rows split across cores.
    static func separableBlur(_ image: Image, column: [Float], row: [Float]) -> Image {
        let (w, h, c) = (image.width, image.height, image.channels)
        let half = row.count / 2
        let k = row.count
        let horizontal = UnsafeMutableBufferPointer<Float>.allocate(capacity: w * h * c)
        defer { horizontal.deallocate() }
        image.pixels.withUnsafeBufferPointer { source in
            let sourceBase = source.baseAddress!
            let target = horizontal.baseAddress!
            parallelForEach(h) { y in
                // One reflect-padded row, then a k-tap dot product per output sample.
                var line = [Float](repeating: 0, count: (w + 2 * half) * c)
                for x in 0..<(w + 2 * half) {
                    let sx = reflect(x - half, w)
                    for ch in 0..<c { line[x * c + ch] = sourceBase[(y * w + sx) * c + ch] }
                }
                line.withUnsafeBufferPointer { padded in
                    for i in 0..<(w * c) {
                        var sum: Float = 0
                        for t in 0..<k { sum += row[t] * padded[i + t * c] }
                        target[y * w * c + i] = sum
                    }
                }
            }
        }
        var out = image
        out.pixels.withUnsafeMutableBufferPointer { destination in
            let target = destination.baseAddress!
            let source = UnsafePointer(horizontal.baseAddress!)
            let rowLength = w * c
            parallelForEach(h) { y in
                let rows = (0..<k).map { t in source + reflect(y + t - half, h) * rowLength }
                for i in 0..<rowLength {
                    var sum: Float = 0
                    for t in 0..<k { sum += column[t] * rows[t][i] }
                    target[y * rowLength + i] = sum
                }
            }
        }
        return out
    }

    /// Reflect index (edge not repeated) for any offset, folding as often as needed.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * (n - 1)
        var j = i % period
        if j < 0 { j += period }
        return j < n ? j : period - j
    }

    /// The same correlation for images smaller than the kernel's half-width (repeated reflection).
    static func smallImageBlur(_ image: Image, kernel: BlurKernel) -> Image {
        let (w, h, c, k) = (image.width, image.height, image.channels, kernel.size)
        let half = k / 2
        var out = image
        for y in 0..<h { for x in 0..<w { for ch in 0..<c {
            var sum = 0.0
            for dy in 0..<k { for dx in 0..<k {
                sum += kernel.values[dy * k + dx] * Double(image[reflect(y + dy - half, h), reflect(x + dx - half, w), ch])
            } }
            out[y, x, ch] = Float(sum)
        } } }
        return out
    }

    /// Adds Gaussian noise of standard deviation `sigma`/255 (one field shared by the channels when
    /// `gray`), clipped to [0, 1].
    public static func gaussianNoise(_ image: Image, sigma: Double, gray: Bool, using generator: inout TorchGenerator) -> Image {
        let count = gray ? image.pixelCount : image.pixels.count
        let noise = generator.randn(count: count)
        var out = image
        for p in 0..<image.pixelCount {
            for k in 0..<image.channels {
                let n = noise[gray ? p : p * image.channels + k]
                out.pixels[p * image.channels + k] = min(max(image.pixels[p * image.channels + k] + n * Float(sigma / 255), 0), 1)
            }
        }
        return out
    }

    /// Poisson (shot) noise as BasicSR `generate_poisson_noise`: the image (or its luma, for
    /// `gray`) quantized to 8 bits, vals = 2^⌈log2(distinct levels)⌉, noise = (Poisson(x·vals)/vals − x)·scale,
    /// added and clipped to [0, 1]. Limitations: NumPy's Poisson sampler is not reproduced (the draws
    /// differ, the distribution is the same).
    public static func poissonNoise(_ image: Image, scale: Double, gray: Bool, using generator: inout TorchGenerator) -> Image {
        let source: [Float]
        let channels = gray ? 1 : image.channels
        if gray {
            source = (0..<image.pixelCount).map { p in
                let r = image.pixels[p * 3], g = image.pixels[p * 3 + 1], b = image.pixels[p * 3 + 2]
                return 0.299 * r + 0.587 * g + 0.114 * b
            }
        } else {
            source = image.pixels
        }
        let quantized = source.map { (min(max($0 * 255, 0), 255)).rounded() / 255 }
        let distinct = Set(quantized).count
        let vals = pow(2, ceil(log2(Double(max(distinct, 1)))))
        let noise = quantized.map { x -> Float in
            Float((Double(poisson(mean: Double(x) * vals, using: &generator)) / vals - Double(x)) * scale)
        }
        var out = image
        for p in 0..<image.pixelCount {
            for k in 0..<image.channels {
                let n = noise[p * channels + (gray ? 0 : k)]
                out.pixels[p * image.channels + k] = min(max(image.pixels[p * image.channels + k] + n, 0), 1)
            }
        }
        return out
    }

    /// A Poisson draw: Knuth's product method for small means, a rounded normal approximation
    /// (continuity-corrected) above 64.
    static func poisson(mean: Double, using generator: inout TorchGenerator) -> Int {
        if mean <= 0 { return 0 }
        if mean > 64 {
            let u1 = generator.uniformDouble(), u2 = generator.uniformDouble()
            let z = (-2 * log1p(-u1)).squareRoot() * cos(2 * Double.pi * u2)
            return max(0, Int((mean + z * mean.squareRoot()).rounded()))
        }
        let limit = exp(-mean)
        var k = 0, product = generator.uniformDouble()
        while product > limit { k += 1; product *= generator.uniformDouble() }
        return k
    }

    /// JPEG compression at `quality` through libjpeg (the encoder OpenCV and Pillow use), decoded back.
    public static func jpeg(_ image: Image, quality: Int) throws -> Image {
        try Image(encoded: try JPEGCodec.encode(image.clipped(), quality: quality))
    }

    /// Unsharp masking of the target (BasicSR `USMSharp`: 51×51 Gaussian with σ = 8, weight 0.5,
    /// threshold 10/255, the soft mask blurred by the same kernel).
    public static func sharpen(_ image: Image, weight: Float = 0.5, threshold: Float = 10) -> Image {
        let kernel = BlurKernel.gaussian(size: 51, sigmaX: 8)
        let blurred = blur(image, kernel: kernel)
        var residual = image, mask = image
        for i in image.pixels.indices {
            residual.pixels[i] = image.pixels[i] - blurred.pixels[i]
            mask.pixels[i] = abs(residual.pixels[i]) * 255 > threshold ? 1 : 0
        }
        let softMask = blur(mask, kernel: kernel)
        var out = image
        for i in image.pixels.indices {
            let sharp = min(max(image.pixels[i] + weight * residual.pixels[i], 0), 1)
            out.pixels[i] = softMask.pixels[i] * sharp + (1 - softMask.pixels[i]) * image.pixels[i]
        }
        return out
    }
}
