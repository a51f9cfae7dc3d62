import Foundation

/// Which forward algorithm `Tensor.conv2d` may use, scoped with `withConvolutionAlgorithm`.
public enum ConvolutionAlgorithm: Sendable {
    /// Winograd F(4×4, 3×3) for the forward, backward-data and backward-weights passes of 3×3
    /// stride-1 convolutions (when the channels allow it), oneDNN otherwise.
    case automatic
    /// oneDNN's direct convolution always.
    case direct

    @TaskLocal public static var current: ConvolutionAlgorithm = .automatic
}

/// Runs `body` with convolutions restricted to `algorithm` (e.g. `.direct` to compare against).
public func withConvolutionAlgorithm<R>(_ algorithm: ConvolutionAlgorithm, _ body: () throws -> R) rethrows -> R {
    try ConvolutionAlgorithm.$current.withValue(algorithm, operation: body)
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch's `conv2d`): oneDNN, or Winograd
    /// F(4×4, 3×3) for all three passes of 3×3 stride-1 convolutions (`ConvolutionAlgorithm`,
    /// read when each pass runs).
    ///
    /// - Parameters:
    ///   - input: `[N, H, W, C]` (NHWC).
    ///   - weights: `[K, kh, kw, C]` (OHWI).
    ///   - bias: `[K]` or nil.
    ///   - stride: the same along both axes.
    ///   - padding: zero padding `(top, bottom, left, right)`.
    ///   - addend: added to the output: `[N, H', W', K]` (a residual) or `[N, 1, 1, K]` (a shift per
    ///     batch element and channel, as the U-Net's noise embedding). Equal to `conv2d(…) + addend`;
    ///     the Winograd path adds it as it writes the output tiles (one pass over the output less,
    ///     forward and backward), the oneDNN path with the broadcasting addition after the primitive.
    /// - Returns: `[N, H', W', K]` with H' = (H + top + bottom − kh)/stride + 1.
    public static func conv2d(_ input: Tensor, weights: Tensor, bias: Tensor? = nil, stride: Int = 1,
                              padding: (top: Int, bottom: Int, left: Int, right: Int), adding addend: Tensor? = nil) -> Tensor {
        precondition(input.rank == 4 && weights.rank == 4, "conv2d needs NHWC input and OHWI weights, got \(input.shape) and \(weights.shape)")
        precondition(weights.shape[3] == input.shape[3], "conv2d: weights \(weights.shape) expect \(weights.shape[3]) input channels, input has \(input.shape[3])")
        if let bias { precondition(bias.shape == [weights.shape[0]], "conv2d: bias \(bias.shape) for \(weights.shape[0]) outputs") }
        let geometry = ConvolutionGeometry(
            batch: input.shape[0], height: input.shape[1], width: input.shape[2], inputChannels: input.shape[3],
            outputChannels: weights.shape[0], kernelHeight: weights.shape[1], kernelWidth: weights.shape[2],
            strideY: stride, strideX: stride, padTop: padding.top, padBottom: padding.bottom,
            padLeft: padding.left, padRight: padding.right, hasBias: bias != nil)
        precondition(geometry.outputHeight > 0 && geometry.outputWidth > 0, "conv2d: empty output for \(geometry)")
        let outputShape = [geometry.batch, geometry.outputHeight, geometry.outputWidth, geometry.outputChannels]
        let perSample = addend.map { $0.shape == [geometry.batch, 1, 1, geometry.outputChannels] } ?? false
        if let addend {
            precondition(addend.shape == outputShape || perSample,
                         "conv2d: addend \(addend.shape) is neither the output's shape \(outputShape) nor [N, 1, 1, K]")
        }
        let inputs = [input, weights] + (bias.map { [$0] } ?? []) + (addend.map { [$0] } ?? [])
        let result: Tensor
        if ConvolutionAlgorithm.current == .automatic && WinogradConvolution.isApplicable(geometry)
            && WinogradConvolution.filtersAffordable(weights, geometry: geometry) {
            result = Tensor.filled(shape: outputShape) { out in
                let terms = WinogradConvolution.OutputTerms(bias: bias.map { UnsafeRawPointer($0.storage.pointer) },
                                                            addend: addend.map { UnsafeRawPointer($0.storage.pointer) },
                                                            perSample: perSample)
                WinogradConvolution.forward(input: input, weights: weights, terms: terms, geometry: geometry, output: out)
            }
        } else {
            let convolved = Tensor.filled(shape: outputShape) { out in
                ConvolutionPlan.plan(for: geometry).runForward(input: input, weights: weights, bias: bias, output: out)
            }
            // Broadcasting covers both addend shapes; the graph is recorded below as one operation.
            result = addend.map { broadcasting(AddOperation.self, convolved, $0) } ?? convolved
        }
        return recording(result, inputs: inputs) { g, needs in
            let plan = ConvolutionPlan.plan(for: geometry)
            var gradients: [Tensor?] = Array(repeating: nil, count: inputs.count)
            if needs[0] {
                let winograd = ConvolutionAlgorithm.current == .automatic && WinogradConvolution.backwardDataGeometry(geometry) != nil
                gradients[0] = Tensor.filled(shape: input.shape) { out in
                    if winograd {
                        WinogradConvolution.backwardData(outputGradient: g, weights: weights, geometry: geometry, inputGradient: out)
                    } else {
                        plan.runBackwardData(outputGradient: g, weights: weights, inputGradient: out)
                    }
                }
            }
            if (needs[1] || (bias != nil && needs[2])) && ConvolutionAlgorithm.current == .automatic
                && WinogradConvolution.takesBackwardWeights(geometry) {
                gradients[1] = Tensor.filled(shape: weights.shape) { out in
                    WinogradConvolution.backwardWeights(input: input, outputGradient: g, geometry: geometry, weightsGradient: out)
                }
                if bias != nil {
                    let pixels = geometry.batch * geometry.outputHeight * geometry.outputWidth
                    let sums = channelSums(g.storage.pointer, pixels: pixels, channels: geometry.outputChannels, second: nil).0
                    gradients[2] = Tensor(shape: [geometry.outputChannels], values: sums.map(Float.init))
                }
            } else if needs[1] || (bias != nil && needs[2]) {
                var biasGradient: Tensor? = bias.map { Tensor.zeros($0.shape) }
                let weightsGradient = Tensor.filled(shape: weights.shape) { out in
                    if var b = biasGradient {
                        b.withUnsafeMutableBufferPointer { buffer in
                            plan.runBackwardWeights(input: input, outputGradient: g, weightsGradient: out,
                                                    biasGradient: buffer.baseAddress!)
                        }
                        biasGradient = b
                    } else {
                        plan.runBackwardWeights(input: input, outputGradient: g, weightsGradient: out, biasGradient: nil)
                    }
                }
                gradients[1] = weightsGradient
                if bias != nil { gradients[2] = biasGradient }
            }
            if addend != nil, needs[inputs.count - 1] {   // ∂/∂addend: g, or its sum over H', W'
                gradients[inputs.count - 1] = perSample ? g.sum(alongAxes: [1, 2], keepingDimensions: true) : g
            }
            return gradients
        }
    }

    /// Convolution with "same"-style symmetric padding `padding` on all sides (and an optional
    /// `addend`, as above).
    public static func conv2d(_ input: Tensor, weights: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                              adding addend: Tensor? = nil) -> Tensor {
        conv2d(input, weights: weights, bias: bias, stride: stride, padding: (padding, padding, padding, padding), adding: addend)
    }
}
