import Foundation
import SRTensor

/// Evaluates a denoiser on overlapping tiles and blends their noise predictions with Gaussian
/// weights — StableSR's "aggregation sampling", applied at every sampling step so the tiles agree
/// and there are no seams. Peak memory is that of one tile.
///
/// Tiles of `size` pixels at stride `size − overlap`, the last row and column aligned to the border;
/// weight w(x) = exp(−((x − m)/W)²/(2·0.01)) (σ = 0.1·W) with m = (W − 1)/2 on both axes.
/// Deviation: StableSR centres the vertical window at H/2 (an off-by-half asymmetry); here both
/// axes are symmetric.
public struct TiledDenoiser {
    public let size: Int
    public let overlap: Int

    public init(size: Int, overlap: Int) {
        precondition(size > 0 && overlap >= 0 && overlap < size, "tile overlap must be in 0..<tile size")
        self.size = size
        self.overlap = overlap
    }

    /// Tile origins along an axis of `length` pixels.
    public func origins(_ length: Int) -> [Int] {
        if length <= size { return [0] }
        var starts = Array(stride(from: 0, to: length - size, by: size - overlap))
        starts.append(length - size)
        return starts
    }

    static func window(_ length: Int) -> [Float] {
        let m = Double(length - 1) / 2
        return (0..<length).map { x in Float(Foundation.exp(-pow((Double(x) - m) / Double(length), 2) / (2 * 0.01))) }
    }

    /// The blended prediction of `model` for a full input `[N, H, W, C]`.
    public func callAsFunction(_ input: Tensor, noiseLevel: Tensor, model: (Tensor, Tensor) -> Tensor) -> Tensor {
        let (n, h, w) = (input.shape[0], input.shape[1], input.shape[2])
        if h <= size && w <= size { return model(input, noiseLevel) }
        var sum: Tensor? = nil
        var weights = Tensor.zeros([1, h, w, 1])
        let tileHeight = min(size, h), tileWidth = min(size, w)
        let wy = TiledDenoiser.window(tileHeight), wx = TiledDenoiser.window(tileWidth)
        let window = Tensor(shape: [1, tileHeight, tileWidth, 1], values: wy.flatMap { y in wx.map { y * $0 } })
        for y0 in origins(h) {
            for x0 in origins(w) {
                let tile = input.sliced(alongAxis: 1, from: y0, count: tileHeight).sliced(alongAxis: 2, from: x0, count: tileWidth)
                let prediction = model(tile, noiseLevel) * window
                let c = prediction.shape[3]
                if sum == nil { sum = Tensor.zeros([n, h, w, c]) }
                sum = sum!.adding(prediction, atY: y0, x: x0)
                weights = weights.adding(window, atY: y0, x: x0)
            }
        }
        return sum! / weights
    }
}

extension Tensor {
    /// This NHWC tensor with `patch` added at (y, x) (no gradient recording; used by tiling).
    func adding(_ patch: Tensor, atY y0: Int, x x0: Int) -> Tensor {
        var out = self.detached
        let (h, w, c) = (shape[1], shape[2], shape[3])
        let (ph, pw) = (patch.shape[1], patch.shape[2])
        precondition(patch.shape[3] == c && patch.shape[0] == shape[0], "patch \(patch.shape) does not fit \(shape)")
        patch.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for b in 0..<shape[0] { for y in 0..<ph { for x in 0..<pw { for k in 0..<c {
                    o[((b * h + y0 + y) * w + x0 + x) * c + k] += p[((b * ph + y) * pw + x) * c + k]
                } } } }
            }
        }
        return out
    }
}
