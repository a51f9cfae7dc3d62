import Foundation
import SRImage

/// NIQE, the Natural Image Quality Evaluator (Mittal, Soundararajan, Bovik 2013): the distance
/// between a multivariate Gaussian fitted to the image's natural-scene-statistics features and the
/// pristine model. No reference needed; lower is better.
///
/// Matches: BasicSR 1.4.2 `calculate_niqe(img, crop_border, convert_to='y')` and `niqe`: Y channel
/// (MATLAB BT.601, ×255) rounded to integers, `crop_border` removed, cropped to whole 96×96 blocks;
/// two scales (the second by `matlab-bicubic` ×½ of the image/255); local mean and deviation by the
/// 7×7 window with edge-replicating borders; per block the AGGD fits (grid 0.2…10 step 0.001) of the
/// normalized block and of its products with four shifted copies (`np.roll` by (0,1), (1,0), (1,1),
/// (1,−1)), 18 features per scale; NaN-aware mean, covariance of the NaN-free rows, pseudo-inverse
/// of the averaged covariances. Limitations: Double arithmetic where BasicSR filters in Float32
/// (differences ~1e-4, the BasicSR parity tolerance is 0.01); needs at least 2 blocks (192×96 px).
public struct NIQE: Sendable {
    public var parameters: NIQEParameters
    public var cropBorder: Int
    public var name: String { "niqe" }
    static let blockSize = 96

    public init(parameters: NIQEParameters, cropBorder: Int = 0) {
        self.parameters = parameters
        self.cropBorder = cropBorder
    }

    /// The NIQE score of an RGB (or single-channel Y) image in `[0, 1]`.
    public func callAsFunction(_ image: Image) throws -> Double {
        let planes = try image.metricPlanes(.y, cropBorder: cropBorder)
        let width = image.width - 2 * cropBorder, height = image.height - 2 * cropBorder
        let blocksX = width / NIQE.blockSize, blocksY = height / NIQE.blockSize
        guard blocksX * blocksY >= 2 else {
            throw MetricError.tooSmall("NIQE needs at least two 96x96 blocks, the image is \(width)x\(height)")
        }
        let w = blocksX * NIQE.blockSize, h = blocksY * NIQE.blockSize
        var plane = [Double](repeating: 0, count: w * h)
        for y in 0..<h {
            for x in 0..<w { plane[y * w + x] = planes[0][y * width + x].rounded(.toNearestOrEven) }
        }
        var features = [[Double]](repeating: [], count: blocksX * blocksY)
        var currentWidth = w, currentHeight = h
        for scale in 1...2 {
            let normalized = normalize(plane, width: currentWidth, height: currentHeight)
            let block = NIQE.blockSize / scale
            var index = 0
            for bx in 0..<blocksX {
                for by in 0..<blocksY {
                    var values = [Double](repeating: 0, count: block * block)
                    for y in 0..<block {
                        for x in 0..<block { values[y * block + x] = normalized[(by * block + y) * currentWidth + bx * block + x] }
                    }
                    features[index] += NIQE.blockFeatures(values, size: block)
                    index += 1
                }
            }
            if scale == 1 {
                let down = Image(width: currentWidth, height: currentHeight, channels: 1,
                                 pixels: plane.map { Float($0 / 255) }).resized(scale: 0.5, method: .matlabBicubic)
                plane = down.pixels.map { Double($0) * 255 }
                currentWidth = down.width
                currentHeight = down.height
            }
        }
        return try NIQE.distance(features: features, parameters: parameters)
    }

    /// (x − μ) / (σ + 1) with μ, σ from the Gaussian window (edge-replicating borders).
    func normalize(_ plane: [Double], width: Int, height: Int) -> [Double] {
        let k = parameters.windowSize, r = k / 2
        let window = parameters.window
        var out = [Double](repeating: 0, count: plane.count)
        for y in 0..<height {
            for x in 0..<width {
                var mu = 0.0, second = 0.0
                for dy in 0..<k {
                    let sy = min(max(y + dy - r, 0), height - 1)
                    for dx in 0..<k {
                        let sx = min(max(x + dx - r, 0), width - 1)
                        // scipy.ndimage.convolve flips the kernel.
                        let weight = window[(k - 1 - dy) * k + (k - 1 - dx)]
                        let v = plane[sy * width + sx]
                        mu += weight * v
                        second += weight * v * v
                    }
                }
                let sigma = abs(second - mu * mu).squareRoot()
                out[y * width + x] = (plane[y * width + x] - mu) / (sigma + 1)
            }
        }
        return out
    }

    /// The 18 features of one block (BasicSR `compute_feature`).
    static func blockFeatures(_ block: [Double], size: Int) -> [Double] {
        var result: [Double] = []
        let (alpha, left, right) = aggd(block)
        result += [alpha, (left + right) / 2]
        for (sy, sx) in [(0, 1), (1, 0), (1, 1), (1, -1)] {
            var product = [Double](repeating: 0, count: block.count)
            for y in 0..<size {
                for x in 0..<size {
                    let py = ((y - sy) % size + size) % size, px = ((x - sx) % size + size) % size
                    product[y * size + x] = block[y * size + x] * block[py * size + px]
                }
            }
            let (a, l, r) = aggd(product)
            let mean = (r - l) * (tgamma(2 / a) / tgamma(1 / a))
            result += [a, mean, l, r]
        }
        return result
    }

    /// The AGGD shape grid and its ρ(γ) = Γ(2/γ)² / (Γ(1/γ)·Γ(3/γ)).
    static let shapeGrid: (gamma: [Double], ratio: [Double]) = {
        let gammas = (0..<9801).map { 0.2 + Double($0) * 0.001 }
        let ratios = gammas.map { g -> Double in
            let r = 1 / g
            return pow(tgamma(r * 2), 2) / (tgamma(r) * tgamma(r * 3))
        }
        return (gammas, ratios)
    }()

    /// Asymmetric generalized Gaussian fit by moment matching (BasicSR `estimate_aggd_param`).
    static func aggd(_ values: [Double]) -> (alpha: Double, left: Double, right: Double) {
        var leftSum = 0.0, leftCount = 0, rightSum = 0.0, rightCount = 0, absSum = 0.0, squareSum = 0.0
        for v in values {
            if v < 0 { leftSum += v * v; leftCount += 1 } else if v > 0 { rightSum += v * v; rightCount += 1 }
            absSum += abs(v)
            squareSum += v * v
        }
        let leftStd = (leftSum / Double(leftCount)).squareRoot()     // NaN when empty, as NumPy
        let rightStd = (rightSum / Double(rightCount)).squareRoot()
        let gammaHat = leftStd / rightStd
        let n = Double(values.count)
        let rHat = pow(absSum / n, 2) / (squareSum / n)
        let rHatNorm = rHat * (pow(gammaHat, 3) + 1) * (gammaHat + 1) / pow(pow(gammaHat, 2) + 1, 2)
        var best = 0
        if !rHatNorm.isNaN {
            var bestError = Double.infinity
            for (i, ratio) in shapeGrid.ratio.enumerated() {
                let e = (ratio - rHatNorm) * (ratio - rHatNorm)
                if e < bestError { bestError = e; best = i }
            }
        }
        let alpha = shapeGrid.gamma[best]
        let factor = (tgamma(1 / alpha) / tgamma(3 / alpha)).squareRoot()
        return (alpha, leftStd * factor, rightStd * factor)
    }

    /// √((μp − μd)ᵀ pinv((Σp + Σd)/2) (μp − μd)).
    static func distance(features: [[Double]], parameters: NIQEParameters) throws -> Double {
        let n = parameters.mean.count
        guard features.allSatisfy({ $0.count == n }) else {
            throw MetricError.parameters("NIQE features have \(features.first?.count ?? 0) entries, the model \(n)")
        }
        var mean = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var sum = 0.0, count = 0
            for row in features where !row[j].isNaN { sum += row[j]; count += 1 }
            mean[j] = sum / Double(count)
        }
        let clean = features.filter { row in !row.contains(where: { $0.isNaN }) }
        guard clean.count >= 2 else {
            throw MetricError.tooSmall("NIQE: fewer than two blocks have finite features (a flat image?)")
        }
        var cleanMean = [Double](repeating: 0, count: n)
        for row in clean { for j in 0..<n { cleanMean[j] += row[j] } }
        for j in 0..<n { cleanMean[j] /= Double(clean.count) }
        var matrix = [Double](repeating: 0, count: n * n)
        for row in clean {
            for i in 0..<n {
                let di = row[i] - cleanMean[i]
                for j in 0..<n { matrix[i * n + j] += di * (row[j] - cleanMean[j]) }
            }
        }
        for i in 0..<(n * n) {
            matrix[i] = (parameters.covariance[i] + matrix[i] / Double(clean.count - 1)) / 2
        }
        let inverse = SymmetricMatrix.pseudoInverse(matrix, size: n)
        let d = (0..<n).map { parameters.mean[$0] - mean[$0] }
        var quality = 0.0
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n { s += inverse[i * n + j] * d[j] }
            quality += d[i] * s
        }
        return quality.squareRoot()
    }
}
