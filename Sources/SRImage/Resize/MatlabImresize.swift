import Foundation

/// MATLAB `imresize(img, scale, 'bicubic')`, the SR benchmark standard for making LR images.
///
/// Matches: BasicSR 1.4.2 `basicsr/utils/matlab_functions.py` (`imresize`,
/// `calculate_weights_indices`), itself a port of MATLAB's `imresize`:
/// Keys cubic kernel with a = −0.5; output index x (1-based) maps to
/// u = x/scale + 0.5·(1 − 1/scale); kernel width 4, widened to 4/scale (and the kernel
/// scaled, `scale·cubic(scale·d)`) when shrinking with antialiasing; ceil(width)+2 taps from
/// floor(u − width/2); each row normalized to sum 1; symmetric (edge-repeating mirror) padding;
/// the height axis first, then the width; Float32 arithmetic, no rounding or clipping.
/// Limitations: like BasicSR, one scale per axis pass (a target size uses out/in per axis, as
/// MATLAB does); the weights are computed in Double and rounded to Float32 (BasicSR computes them
/// in Float32), a difference below 1e-6.
enum MatlabImresize {
    static func cubic(_ x: Double) -> Double {
        let a = abs(x), a2 = a * a, a3 = a2 * a
        if a <= 1 { return 1.5 * a3 - 2.5 * a2 + 1 }
        if a <= 2 { return -0.5 * a3 + 2.5 * a2 - 4 * a + 2 }
        return 0
    }

    /// Mirror-pads an index into `0..<length` (symmetric: −1 → 0, length → length−1).
    static func mirror(_ i: Int, _ length: Int) -> Int {
        if length == 1 { return 0 }
        let period = 2 * length
        var j = i % period
        if j < 0 { j += period }
        return j < length ? j : period - 1 - j
    }

    static func weights(inputLength: Int, outputLength: Int, scale: Double, antialiasing: Bool = true) -> SeparableWeights {
        var kernelWidth = 4.0
        let shrinking = scale < 1 && antialiasing
        if shrinking { kernelWidth /= scale }
        let taps = Int(ceil(kernelWidth)) + 2
        var result = SeparableWeights(outputLength: outputLength, taps: taps)
        var row = [Double](repeating: 0, count: taps)
        for i in 0..<outputLength {
            let x = Double(i + 1)
            let u = x / scale + 0.5 * (1 - 1 / scale)
            let left = floor(u - kernelWidth / 2)
            var sum = 0.0
            for k in 0..<taps {
                let index = left + Double(k)
                let distance = u - index
                row[k] = shrinking ? scale * cubic(distance * scale) : cubic(distance)
                sum += row[k]
            }
            for k in 0..<taps {
                result.weights[i * taps + k] = Float(row[k] / sum)
                result.indices[i * taps + k] = mirror(Int(left) + k - 1, inputLength)  // 1-based → 0-based
            }
        }
        return result
    }
}
