import SRImage
import SRTensor

extension Image {
    /// The RGB image of a `[1, H, W, 3]` tensor in the autoencoders' range [−1, 1], mapped to [0, 1]
    /// and clamped (non-finite values are the caller's to check first).
    public init(signedTensor tensor: Tensor) {
        precondition(tensor.rank == 4 && tensor.shape[0] == 1 && tensor.shape[3] == 3, "expected [1, H, W, 3], got \(tensor.shape)")
        self.init(width: tensor.shape[2], height: tensor.shape[1], channels: 3,
                  pixels: tensor.scalars.map { Swift.min(Swift.max(($0 + 1) / 2, 0), 1) })
    }
}
