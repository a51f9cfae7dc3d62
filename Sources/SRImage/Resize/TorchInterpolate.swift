import Foundation

/// `torch.nn.functional.interpolate` without antialiasing, `align_corners=False`.
///
/// Matches: PyTorch 2.x CPU kernels (`UpSample.h` `area_pixel_compute_scale`,
/// `area_pixel_compute_source_index`, `upsample_bicubic2d`, `upsample_bilinear2d`,
/// `adaptive_avg_pool2d`, `upsample_nearest2d`):
/// - the coordinate scale is `1/scale_factor` when a scale factor is given (the output size is
///   `floor(in·scale_factor)`), otherwise `in/out`;
/// - bicubic: source x = scale·(dst+0.5)−0.5 (not clamped), taps floor(x)−1…floor(x)+2 with
///   indices clamped to the image, Keys kernel with a = −0.75;
/// - bilinear: source x = max(scale·(dst+0.5)−0.5, 0), taps x0 and min(x0+1, in−1);
/// - area (`mode='area'` is adaptive average pooling): window floor(i·in/out) ..< ceil((i+1)·in/out);
/// - nearest (legacy `'nearest'`): source = min(floor(dst·scale), in−1).
/// Arithmetic in Float32 like PyTorch's float kernels; the 2-D bicubic/bilinear are applied as
/// two separable passes (the same sums in another order: differences stay below 1e-5).
enum TorchInterpolate {
    static func coordinateScale(input: Int, output: Int, scaleFactor: Double?) -> Float {
        if let scaleFactor, scaleFactor > 0 { return Float(1 / scaleFactor) }
        return Float(input) / Float(output)
    }

    static func clampIndex(_ i: Int, _ length: Int) -> Int { min(max(i, 0), length - 1) }

    static func bicubic(inputLength: Int, outputLength: Int, scaleFactor: Double?) -> SeparableWeights {
        let scale = coordinateScale(input: inputLength, output: outputLength, scaleFactor: scaleFactor)
        let a: Float = -0.75
        var result = SeparableWeights(outputLength: outputLength, taps: 4)
        for i in 0..<outputLength {
            let real = scale * (Float(i) + 0.5) - 0.5
            let floorValue = real.rounded(.down)
            let t = real - floorValue
            let base = Int(floorValue)
            // cubic_convolution2(t+1), cubic_convolution1(t), cubic_convolution1(1−t), cubic_convolution2(2−t)
            let x0 = t + 1, x1 = t, x2 = 1 - t, x3 = 2 - t
            let w0 = ((a * x0 - 5 * a) * x0 + 8 * a) * x0 - 4 * a
            let w1 = ((a + 2) * x1 - (a + 3)) * x1 * x1 + 1
            let w2 = ((a + 2) * x2 - (a + 3)) * x2 * x2 + 1
            let w3 = ((a * x3 - 5 * a) * x3 + 8 * a) * x3 - 4 * a
            let w = [w0, w1, w2, w3]
            for k in 0..<4 {
                result.indices[i * 4 + k] = clampIndex(base - 1 + k, inputLength)
                result.weights[i * 4 + k] = w[k]
            }
        }
        return result
    }

    static func bilinear(inputLength: Int, outputLength: Int, scaleFactor: Double?) -> SeparableWeights {
        let scale = coordinateScale(input: inputLength, output: outputLength, scaleFactor: scaleFactor)
        var result = SeparableWeights(outputLength: outputLength, taps: 2)
        for i in 0..<outputLength {
            let real = max(scale * (Float(i) + 0.5) - 0.5, 0)
            let x0 = min(Int(real), inputLength - 1)
            let x1 = x0 < inputLength - 1 ? x0 + 1 : x0
            let lambda1 = min(max(real - Float(x0), 0), 1)
            result.indices[i * 2] = x0
            result.indices[i * 2 + 1] = x1
            result.weights[i * 2] = 1 - lambda1
            result.weights[i * 2 + 1] = lambda1
        }
        return result
    }

    static func area(inputLength: Int, outputLength: Int) -> SeparableWeights {
        var taps = 1
        for i in 0..<outputLength {
            let start = (i * inputLength) / outputLength
            let end = ((i + 1) * inputLength + outputLength - 1) / outputLength
            taps = max(taps, end - start)
        }
        var result = SeparableWeights(outputLength: outputLength, taps: taps)
        for i in 0..<outputLength {
            let start = (i * inputLength) / outputLength
            let end = ((i + 1) * inputLength + outputLength - 1) / outputLength
            let weight = 1 / Float(end - start)
            for k in 0..<taps {
                result.indices[i * taps + k] = min(start + k, inputLength - 1)
                result.weights[i * taps + k] = start + k < end ? weight : 0
            }
        }
        return result
    }

    static func nearest(inputLength: Int, outputLength: Int, scaleFactor: Double?) -> SeparableWeights {
        let scale = coordinateScale(input: inputLength, output: outputLength, scaleFactor: scaleFactor)
        var result = SeparableWeights(outputLength: outputLength, taps: 1)
        for i in 0..<outputLength {
            result.indices[i] = min(Int((Float(i) * scale).rounded(.down)), inputLength - 1)
            result.weights[i] = 1
        }
        return result
    }
}
