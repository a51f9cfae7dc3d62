import Foundation
import SRSupport

/// Pillow's `Image.resize` for 8-bit images (`mode "RGB"`/`"L"`), reproduced exactly.
///
/// Matches: Pillow 12.0 (and the classic algorithm since Pillow 4) `src/libImaging/Resample.c` (`precompute_coeffs`,
/// `normalize_coeffs_8bpc`, `ImagingResampleHorizontal_8bpc`, `ImagingResampleVertical_8bpc`):
/// filters box (support 0.5), bilinear (1), bicubic (a = −0.5, support 2) and Lanczos-3 (support 3);
/// centre (x+0.5)·scale with scale = in/out; the support is widened by the scale when shrinking
/// (antialiasing); window bounds rounded by truncation of `center ± support + 0.5` and clipped to
/// the image, the kernel truncated at the borders and renormalized; coefficients in 22-bit fixed
/// point; the horizontal pass first, rounding and clipping to 8 bits, then the vertical pass.
/// Input samples are first rounded to 8 bits (as an image file holds them); the output is 8-bit
/// levels divided by 255. Limitations: no `box=` argument and no `reducing_gap`. Deviation: Pillow
/// 13.0 sometimes runs the vertical pass first (when shrinking rows while keeping or growing
/// columns, by a cost rule it does not document); its result then differs from this one by a few
/// levels. SR3-era data pipelines used the classic order reproduced here.
enum PillowResample {
    enum Filter: Sendable {
        case box, bilinear, bicubic, lanczos

        var support: Double {
            switch self {
            case .box: return 0.5
            case .bilinear: return 1
            case .bicubic: return 2
            case .lanczos: return 3
            }
        }

        func callAsFunction(_ x: Double) -> Double {
            switch self {
            case .box:
                return x > -0.5 && x <= 0.5 ? 1 : 0
            case .bilinear:
                let a = abs(x)
                return a < 1 ? 1 - a : 0
            case .bicubic:
                let a = abs(x), c = -0.5
                if a < 1 { return ((c + 2) * a - (c + 3)) * a * a + 1 }
                if a < 2 { return (((a - 5) * a + 8) * a - 4) * c }
                return 0
            case .lanczos:
                guard -3 <= x && x < 3 else { return 0 }
                return Filter.sinc(x) * Filter.sinc(x / 3)
            }
        }

        static func sinc(_ x: Double) -> Double {
            if x == 0 { return 1 }
            let y = x * Double.pi
            return sin(y) / y
        }
    }

    static let precisionBits = 32 - 8 - 2

    /// Fixed-point coefficients: for output i, `count[i]` taps from `first[i]`.
    struct Coefficients {
        var first: [Int]
        var count: [Int]
        var taps: Int
        var values: [Int32]
    }

    static func coefficients(inputLength: Int, outputLength: Int, filter: Filter) -> Coefficients {
        let scale = Double(inputLength) / Double(outputLength)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let taps = Int(ceil(support)) * 2 + 1
        var result = Coefficients(first: [Int](repeating: 0, count: outputLength),
                                  count: [Int](repeating: 0, count: outputLength),
                                  taps: taps, values: [Int32](repeating: 0, count: outputLength * taps))
        var k = [Double](repeating: 0, count: taps)
        for i in 0..<outputLength {
            let center = (Double(i) + 0.5) * scale
            let inverse = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)   // C (int) cast: truncation
            let xmax = min(Int(center + support + 0.5), inputLength) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter((Double(x + xmin) - center + 0.5) * inverse)
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) {
                let v = total != 0 ? k[x] / total : k[x]
                let fixed = v * Double(1 << precisionBits)
                result.values[i * taps + x] = Int32(v < 0 ? (-0.5 + fixed) : (0.5 + fixed))  // truncation toward zero
            }
            result.first[i] = xmin
            result.count[i] = max(xmax, 0)
        }
        return result
    }

    @inline(__always)
    static func clip8(_ value: Int) -> UInt8 {
        if value >= (1 << precisionBits) << 8 { return 255 }
        if value <= 0 { return 0 }
        return UInt8(value >> precisionBits)
    }

    /// Resizes 8-bit levels (`[height, width, channels]`) to `outWidth`×`outHeight`.
    static func resize(levels: [UInt8], width: Int, height: Int, channels: Int,
                       outWidth: Int, outHeight: Int, filter: Filter) -> [UInt8] {
        let horizontal = coefficients(inputLength: width, outputLength: outWidth, filter: filter)
        let vertical = coefficients(inputLength: height, outputLength: outHeight, filter: filter)
        let needHorizontal = outWidth != width, needVertical = outHeight != height
        var current = levels
        var currentWidth = width, currentHeight = height
        var firstRow = 0
        var verticalFirst = vertical.first
        if needHorizontal {
            // Only the rows the vertical pass will read, as Pillow does.
            let lastRow = needVertical ? vertical.first[outHeight - 1] + vertical.count[outHeight - 1] : height
            firstRow = needVertical ? vertical.first[0] : 0
            if needVertical { verticalFirst = vertical.first.map { $0 - firstRow } }
            let rows = lastRow - firstRow
            var out = [UInt8](repeating: 0, count: rows * outWidth * channels)
            current.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    horizontal.values.withUnsafeBufferPointer { kk in
                        let srcBase = src.baseAddress!, dstBase = dst.baseAddress!
                        parallelForEach(rows, grain: 4) { y in
                            let inRow = srcBase + (y + firstRow) * width * channels
                            let outRow = dstBase + y * outWidth * channels
                            for x in 0..<outWidth {
                                let first = horizontal.first[x], count = horizontal.count[x]
                                for c in 0..<channels {
                                    var sum = 1 << (precisionBits - 1)
                                    for t in 0..<count {
                                        sum += Int(inRow[(first + t) * channels + c]) * Int(kk[x * horizontal.taps + t])
                                    }
                                    outRow[x * channels + c] = clip8(sum)
                                }
                            }
                        }
                    }
                }
            }
            current = out
            currentWidth = outWidth
            currentHeight = rows
        }
        if needVertical {
            let rowLength = currentWidth * channels
            var out = [UInt8](repeating: 0, count: outHeight * rowLength)
            current.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    vertical.values.withUnsafeBufferPointer { kk in
                        let srcBase = src.baseAddress!, dstBase = dst.baseAddress!
                        parallelForEach(outHeight, grain: 4) { y in
                            let first = verticalFirst[y], count = vertical.count[y]
                            let outRow = dstBase + y * rowLength
                            for i in 0..<rowLength {
                                var sum = 1 << (precisionBits - 1)
                                for t in 0..<count {
                                    sum += Int(srcBase[(first + t) * rowLength + i]) * Int(kk[y * vertical.taps + t])
                                }
                                outRow[i] = clip8(sum)
                            }
                        }
                    }
                }
            }
            current = out
            currentHeight = outHeight
        }
        _ = currentHeight
        return current
    }
}
