import Foundation
import SRSupport

/// Resampling weights along one axis: output sample `i` is `Σ_k weights[i*taps + k] ·
/// input[indices[i*taps + k]]`. Every resampler in this module is separable and builds one of these
/// per axis; boundary handling (mirror, clamp, truncate) is already folded into `indices`.
struct SeparableWeights: Sendable {
    let outputLength: Int
    let taps: Int
    var indices: [Int]
    var weights: [Float]

    init(outputLength: Int, taps: Int) {
        self.outputLength = outputLength
        self.taps = taps
        indices = [Int](repeating: 0, count: outputLength * taps)
        weights = [Float](repeating: 0, count: outputLength * taps)
    }
}

extension Image {
    /// Resamples the rows (height axis) with `weights`, in Float32 arithmetic.
    func resampledVertically(_ weights: SeparableWeights) -> Image {
        let rowLength = width * channels
        var out = [Float](repeating: 0, count: weights.outputLength * rowLength)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                weights.indices.withUnsafeBufferPointer { idx in
                    weights.weights.withUnsafeBufferPointer { w in
                        let srcBase = src.baseAddress!, dstBase = dst.baseAddress!
                        parallelForEach(weights.outputLength, grain: 4) { y in
                            let row = dstBase + y * rowLength
                            for k in 0..<weights.taps {
                                let weight = w[y * weights.taps + k]
                                if weight == 0 { continue }
                                let from = srcBase + idx[y * weights.taps + k] * rowLength
                                for i in 0..<rowLength { row[i] += weight * from[i] }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: weights.outputLength, channels: channels, pixels: out)
    }

    /// Resamples the columns (width axis) with `weights`, in Float32 arithmetic.
    func resampledHorizontally(_ weights: SeparableWeights) -> Image {
        let outWidth = weights.outputLength, channels = self.channels, width = self.width
        var out = [Float](repeating: 0, count: height * outWidth * channels)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                weights.indices.withUnsafeBufferPointer { idx in
                    weights.weights.withUnsafeBufferPointer { w in
                        let srcBase = src.baseAddress!, dstBase = dst.baseAddress!
                        parallelForEach(height, grain: 4) { y in
                            let inRow = srcBase + y * width * channels
                            let outRow = dstBase + y * outWidth * channels
                            for x in 0..<outWidth {
                                for c in 0..<channels {
                                    var sum: Float = 0
                                    for k in 0..<weights.taps {
                                        sum += w[x * weights.taps + k] * inRow[idx[x * weights.taps + k] * channels + c]
                                    }
                                    outRow[x * channels + c] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: height, channels: channels, pixels: out)
    }
}
