import SRImage

/// SR3's consistency: how well an SR output, degraded again, reproduces its low-resolution input.
///
/// Defined here as the mean squared error on the 0–255 scale (all RGB channels) between the
/// `matlab-bicubic` ×1/`scale` downsample of the output (Float, not rounded) and the LR input.
/// Lower is better; 0 means the output is perfectly consistent. The SR3 paper reports the same
/// quantity (bicubic downsample, MSE) with a scale factor that is not public; this is the 8-bit
/// MSE, stated as such.
public struct Consistency: Sendable {
    public var scale: Int
    public var name: String { "consistency" }

    public init(scale: Int) {
        precondition(scale >= 1, "scale must be at least 1")
        self.scale = scale
    }

    /// The consistency of `output` (`scale`× the size of `lowResolution`) with `lowResolution`.
    public func callAsFunction(_ output: Image, lowResolution: Image) throws -> Double {
        guard output.channels == lowResolution.channels else {
            throw MetricError.channelMismatch(image: output.channels, reference: lowResolution.channels)
        }
        let down = output.resized(scale: 1 / Double(scale), method: .matlabBicubic)
        guard down.width == lowResolution.width, down.height == lowResolution.height else {
            throw MetricError.sizeMismatch(
                image: "\(output.width)x\(output.height) (÷\(scale) = \(down.width)x\(down.height))",
                reference: "\(lowResolution.width)x\(lowResolution.height) (the LR input)")
        }
        var sum = 0.0
        for i in down.pixels.indices {
            let d = (Double(down.pixels[i]) - Double(lowResolution.pixels[i])) * 255
            sum += d * d
        }
        return sum / Double(down.pixels.count)
    }
}
