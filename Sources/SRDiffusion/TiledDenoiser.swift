import Foundation
import SRTensor

/// Evaluates a denoiser on overlapping tiles and blends their outputs with Gaussian weights —
/// StableSR's "aggregation sampling", applied at every sampling step so the tiles agree and there
/// are no seams. Peak memory is that of one tile.
///
/// Tiles of `size` pixels at stride `size − overlap`, the last row and column aligned to the border
/// (the grid of StableSR's `p_mean_variance_canvas`); weight w(x) = exp(−((x − m)/W)²/(2·0.01))
/// (σ = 0.1·W) with m = (W − 1)/2 horizontally, and vertically (H − 1)/2 (`.symmetric`) or H/2 as
/// StableSR's `_gaussian_weights` has it (`.stableSR`, an off-by-half asymmetry kept for parity).
/// The denoiser receives each tile with `DenoisingStep.region` set to it, so it can crop what else
/// it needs (SR3's condition, StableSR's LR latent).
public struct TiledDenoiser: Sendable {
    /// The vertical centre of the Gaussian window.
    public enum Window: String, Sendable, Codable {
        /// (H − 1)/2, as horizontally.
        case symmetric
        /// H/2, as StableSR's reference.
        case stableSR
    }

    public let size: Int
    public let overlap: Int
    public var window: Window

    public init(size: Int, overlap: Int, window: Window = .symmetric) {
        precondition(size > 0 && overlap >= 0 && overlap < size, "tile overlap must be in 0..<tile size")
        self.size = size
        self.overlap = overlap
        self.window = window
    }

    /// Tile origins along an axis of `length` pixels.
    public func origins(_ length: Int) -> [Int] {
        if length <= size { return [0] }
        var starts = Array(stride(from: 0, to: length - size, by: size - overlap))
        starts.append(length - size)
        return starts
    }

    /// The window along an axis of `length` pixels, centred at `centre`.
    static func window(_ length: Int, centre: Double) -> [Float] {
        (0..<length).map { x in Float(Foundation.exp(-pow((Double(x) - centre) / Double(length), 2) / (2 * 0.01))) }
    }

    /// The weights of a tile, `[1, height, width, 1]`.
    public func weights(height: Int, width: Int) -> Tensor {
        let wy = Self.window(height, centre: window == .stableSR ? Double(height) / 2 : Double(height - 1) / 2)
        let wx = Self.window(width, centre: Double(width - 1) / 2)
        return Tensor(shape: [1, height, width, 1], values: wy.flatMap { y in wx.map { y * $0 } })
    }

    /// The tiles of a `height` × `width` sample, row by row.
    public func regions(height: Int, width: Int) -> [DenoisingStep.Region] {
        let tileHeight = min(size, height), tileWidth = min(size, width)
        return origins(height).flatMap { y in origins(width).map { x in DenoisingStep.Region(y: y, x: x, height: tileHeight, width: tileWidth) } }
    }

    /// The blended output of `denoiser` for a full sample `[N, H, W, C]`.
    public func callAsFunction(_ x: Tensor, step: DenoisingStep, denoiser: Denoiser) -> Tensor {
        let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        if h <= size && w <= size { return denoiser(x, step) }
        var sum: Tensor? = nil
        var total = Tensor.zeros([1, h, w, 1])
        let regions = regions(height: h, width: w)
        let window = weights(height: regions[0].height, width: regions[0].width)
        for region in regions {
            var tileStep = step
            tileStep.region = DenoisingStep.Region(y: step.region.y + region.y, x: step.region.x + region.x,
                                                   height: region.height, width: region.width)
            let output = denoiser(x.cropped(to: region), tileStep) * window
            if sum == nil { sum = Tensor.zeros([n, h, w, output.shape[3]]) }
            sum = sum!.adding(output, atY: region.y, x: region.x)
            total = total.adding(window, atY: region.y, x: region.x)
        }
        return sum! / total
    }
}

extension Tensor {
    /// This NHWC tensor with `patch` added at (y, x) (no gradient recording; used by tiling).
    public func adding(_ patch: Tensor, atY y0: Int, x x0: Int) -> Tensor {
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
