import SRNN
import SRTensor

/// A layer of the tiny autoencoder's `nn.Sequential` (a child of `TinyEncoder` / `TinyDecoder`).
protocol TinyAutoencoderLayer {
    /// - Parameter x: `[N, H, W, C]`. - Returns: `[N, H', W', C']`.
    func callAsFunction(_ x: Tensor) -> Tensor
}

extension Conv2D: TinyAutoencoderLayer {}

/// TAESD's `Block`: ReLU(conv₃(ReLU(conv₂(ReLU(conv₁(x))))) + skip(x)), all 3×3 with bias; the skip
/// is the identity (TAEF2's blocks keep the width; a width change is refused). With the FLUX.2
/// variant's mid-block normalization (`pool`), x is first replaced by x + conv1×1(ReLU(GN₄(conv1×1(x))))
/// (4× wider inside, no biases, GroupNorm(4, eps 1e-5)).
///
/// Keys: `conv.0`, `conv.2`, `conv.4`, and `pool.0`, `pool.1` (the GroupNorm), `pool.3`.
/// Matches: madebyollin/taesd 5cccb12 `taesd.py` (`Block`).
final class TinyAutoencoderBlock: Module, TinyAutoencoderLayer, @unchecked Sendable {
    let conv1: Conv2D
    let conv2: Conv2D
    let conv3: Conv2D
    let poolIn: Conv2D?
    let poolNorm: GroupNorm?
    let poolOut: Conv2D?
    override var parameterKeys: [String: String] {
        ["conv1": "conv.0", "conv2": "conv.2", "conv3": "conv.4", "poolIn": "pool.0", "poolNorm": "pool.1", "poolOut": "pool.3"]
    }

    init<G: RandomNumberGenerator>(channels: Int, midblockNormalization: Bool, using generator: inout G) {
        func conv(_ g: inout G) -> Conv2D { Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, using: &g) }
        conv1 = conv(&generator)
        conv2 = conv(&generator)
        conv3 = conv(&generator)
        if midblockNormalization {
            poolIn = Conv2D(inputChannels: channels, outputChannels: 4 * channels, kernelSize: 1, bias: false, using: &generator)
            poolNorm = GroupNorm(groups: 4, channels: 4 * channels)
            poolOut = Conv2D(inputChannels: 4 * channels, outputChannels: channels, kernelSize: 1, bias: false, using: &generator)
        } else {
            (poolIn, poolNorm, poolOut) = (nil, nil, nil)
        }
    }

    func callAsFunction(_ input: Tensor) -> Tensor {
        var x = input
        if let poolIn, let poolNorm, let poolOut { x = poolOut(poolNorm(poolIn(x)).relu(), adding: x) }
        return conv3(conv2(conv1(x).relu()).relu(), adding: x).relu()
    }
}

/// A parameterless layer of the sequence: `nn.ReLU`, `nn.Upsample(scale_factor=2)` (nearest) or
/// TAESD's `Clamp` (3·tanh(x/3)). It holds an index of the `nn.Sequential` so the layers after it
/// keep the reference's keys.
final class TinyAutoencoderFunction: Module, TinyAutoencoderLayer, @unchecked Sendable {
    enum Kind { case relu, upsample, clamp }
    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .relu: x.relu()
        case .upsample: x.upsampledNearest(factor: 2)
        case .clamp: (x * (1 / 3)).tanh() * 3
        }
    }
}
