import Foundation

/// The resampling methods of the SR literature, each reproducing one reference implementation.
///
/// | method | matches | output size from a scale |
/// |---|---|---|
/// | `matlab-bicubic` | MATLAB `imresize` / BasicSR `imresize` (antialiased when shrinking), Float32 | `ceil(in·s)` |
/// | `pil-bicubic`, `pil-bilinear`, `pil-box`, `pil-lanczos` | Pillow `Image.resize` on 8-bit images, exactly | `floor(in·s)` |
/// | `torch-bicubic` (a = −0.75), `torch-bilinear`, `torch-area` | `F.interpolate(..., align_corners=False)`, no antialias | `floor(in·s)` |
/// | `nearest` | `F.interpolate(mode='nearest')` | `floor(in·s)` |
///
/// The Pillow methods work on 8-bit levels: the input is rounded to 8 bits and the output is
/// 8-bit levels / 255. The others work in Float32 and neither round nor clip.
public enum ResizeMethod: String, Sendable, CaseIterable, Codable {
    case matlabBicubic = "matlab-bicubic"
    case pilBicubic = "pil-bicubic"
    case pilBilinear = "pil-bilinear"
    case pilBox = "pil-box"
    case pilLanczos = "pil-lanczos"
    case torchBicubic = "torch-bicubic"
    case torchBilinear = "torch-bilinear"
    case torchArea = "torch-area"
    case nearest = "nearest"

    /// The output length along an axis of `input` samples resized by `scale`, by this method's
    /// convention (MATLAB rounds up, Pillow and torch callers round down). Never below 1.
    public func outputLength(input: Int, scale: Double) -> Int {
        let exact = Double(input) * scale
        // Tolerate binary round-off such as 0.1·30 = 3.0000000000000004.
        let nearest = exact.rounded()
        let snapped = abs(exact - nearest) < 1e-9 ? nearest : exact
        let length = self == .matlabBicubic ? ceil(snapped) : floor(snapped)
        return max(Int(length), 1)
    }
}

extension Image {
    /// Resizes by `scale` (the same on both axes), with the output size and coordinate mapping of
    /// the method's reference (see `ResizeMethod`).
    /// - Precondition: `scale > 0`.
    public func resized(scale: Double, method: ResizeMethod) -> Image {
        precondition(scale > 0 && scale.isFinite, "scale must be positive, got \(scale)")
        let outWidth = method.outputLength(input: width, scale: scale)
        let outHeight = method.outputLength(input: height, scale: scale)
        return resized(width: outWidth, height: outHeight, method: method, scales: (scale, scale))
    }

    /// Resizes to `width`×`height` (any aspect); the coordinate mapping uses out/in per axis.
    /// - Precondition: both sizes positive.
    public func resized(width: Int, height: Int, method: ResizeMethod) -> Image {
        precondition(width > 0 && height > 0, "target size must be positive, got \(width)x\(height)")
        return resized(width: width, height: height, method: method, scales: nil)
    }

    private func resized(width outWidth: Int, height outHeight: Int, method: ResizeMethod,
                         scales: (x: Double, y: Double)?) -> Image {
        switch method {
        case .matlabBicubic:
            let sy = scales?.y ?? Double(outHeight) / Double(height)
            let sx = scales?.x ?? Double(outWidth) / Double(width)
            let rows = MatlabImresize.weights(inputLength: height, outputLength: outHeight, scale: sy)
            let columns = MatlabImresize.weights(inputLength: width, outputLength: outWidth, scale: sx)
            return resampledVertically(rows).resampledHorizontally(columns)
        case .pilBicubic, .pilBilinear, .pilBox, .pilLanczos:
            let filter: PillowResample.Filter
            switch method {
            case .pilBicubic: filter = .bicubic
            case .pilBilinear: filter = .bilinear
            case .pilBox: filter = .box
            default: filter = .lanczos
            }
            let out = PillowResample.resize(levels: levels(), width: width, height: height, channels: channels,
                                            outWidth: outWidth, outHeight: outHeight, filter: filter)
            return Image(width: outWidth, height: outHeight, channels: channels, levels: out)
        case .torchBicubic, .torchBilinear, .nearest:
            let build: (Int, Int, Double?) -> SeparableWeights
            switch method {
            case .torchBicubic: build = TorchInterpolate.bicubic
            case .torchBilinear: build = TorchInterpolate.bilinear
            default: build = TorchInterpolate.nearest
            }
            let rows = build(height, outHeight, scales?.y)
            let columns = build(width, outWidth, scales?.x)
            return resampledVertically(rows).resampledHorizontally(columns)
        case .torchArea:
            let rows = TorchInterpolate.area(inputLength: height, outputLength: outHeight)
            let columns = TorchInterpolate.area(inputLength: width, outputLength: outWidth)
            return resampledVertically(rows).resampledHorizontally(columns)
        }
    }
}
