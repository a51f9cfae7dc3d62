import SRNN
import SRTensor

/// `Downsample` with `use_conv`: Conv3×3, stride 2, symmetric padding 1 (key `op`), so a side n
/// becomes ⌈n/2⌉.
public final class LatentDownsample: Module, LatentLayer, @unchecked Sendable {
    let op: Conv2D

    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        op = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, stride: 2, padding: 1, using: &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: `[N, ⌈H/2⌉, ⌈W/2⌉, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { op(x) }
    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor { op(x) }
}

/// `Upsample` with `use_conv`: nearest-neighbour ×2 (`F.interpolate(scale_factor=2)`), then
/// Conv3×3, padding 1 (key `conv`).
public final class LatentUpsample: Module, LatentLayer, @unchecked Sendable {
    let conv: Conv2D

    public init<G: RandomNumberGenerator>(channels: Int, using generator: inout G) {
        conv = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
    }

    /// - Parameter x: `[N, H, W, C]`. - Returns: `[N, 2H, 2W, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x.upsampledNearest(factor: 2)) }
    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor { self(x) }
}
