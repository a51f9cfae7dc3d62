extension Tensor {
    /// The element order a random tensor is filled in.
    public enum RandomFillOrder: Sendable {
        /// Row-major over this tensor's own shape.
        case natural
        /// As PyTorch would fill the NCHW tensor of an NHWC shape `[N, H, W, C]`: values drawn for
        /// `[N, C, H, W]` in row-major order, then permuted to NHWC — so the same seed gives the
        /// reference pipeline's noise.
        case nchw
        /// As PyTorch fills a channels-last NCHW tensor of an NHWC shape (`torch.randn_like` of a
        /// tensor with channels-last strides): element by element in memory order, which is this
        /// NHWC tensor's row-major order (`TorchGenerator.randnElementwise`). Normal draws only.
        case channelsLast
    }

    /// Standard-normal values drawn as `torch.randn` draws them.
    public static func randomNormal(_ shape: [Int], order: RandomFillOrder = .natural, using generator: inout TorchGenerator) -> Tensor {
        if order == .channelsLast { return Tensor(shape: shape, values: generator.randnElementwise(count: shape.reduce(1, *))) }
        return fill(shape, order: order) { generator.randn(count: $0) }
    }

    /// Uniform [0, 1) values drawn as `torch.rand` draws them.
    public static func randomUniform(_ shape: [Int], order: RandomFillOrder = .natural, using generator: inout TorchGenerator) -> Tensor {
        precondition(order != .channelsLast, "channels-last fill order is for normal draws")
        return fill(shape, order: order) { generator.rand(count: $0) }
    }

    private static func fill(_ shape: [Int], order: RandomFillOrder, _ draw: (Int) -> [Float]) -> Tensor {
        let values = draw(shape.reduce(1, *))
        switch order {
        case .natural:
            return Tensor(shape: shape, values: values)
        case .channelsLast:
            preconditionFailure("handled by randomNormal")
        case .nchw:
            precondition(shape.count == 4, "NCHW fill order needs an NHWC shape, got \(shape)")
            return Tensor(shape: [shape[0], shape[3], shape[1], shape[2]], values: values).permuted([0, 2, 3, 1])
        }
    }
}
