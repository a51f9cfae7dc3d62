import Foundation
import _CDNNL

/// The shape of a 2-D convolution: NHWC input, OHWI weights, NHWC output.
struct ConvolutionGeometry: Hashable, Sendable, CustomStringConvertible {
    var batch, height, width, inputChannels, outputChannels: Int
    var kernelHeight, kernelWidth: Int
    var strideY, strideX: Int
    var padTop, padBottom, padLeft, padRight: Int
    var hasBias: Bool

    var outputHeight: Int { (height + padTop + padBottom - kernelHeight) / strideY + 1 }
    var outputWidth: Int { (width + padLeft + padRight - kernelWidth) / strideX + 1 }

    var description: String {
        "n\(batch)h\(height)w\(width)c\(inputChannels)k\(outputChannels)r\(kernelHeight)x\(kernelWidth)s\(strideY)x\(strideX)p\(padTop)\(padBottom)\(padLeft)\(padRight)b\(hasBias)"
    }

    // oneDNN takes logical dims in N C H W / O I H W order; the tags give our physical layouts.
    var sourceDescriptor: dnnl_memory_desc_t { OneDNN.descriptor([batch, inputChannels, height, width], dnnl_nhwc) }
    var destinationDescriptor: dnnl_memory_desc_t { OneDNN.descriptor([batch, outputChannels, outputHeight, outputWidth], dnnl_nhwc) }
    var weightsDims: [Int] { [outputChannels, inputChannels, kernelHeight, kernelWidth] }
    var userWeightsDescriptor: dnnl_memory_desc_t { OneDNN.descriptor(weightsDims, dnnl_ohwi) }
    var anyWeightsDescriptor: dnnl_memory_desc_t { OneDNN.descriptor(weightsDims, dnnl_format_tag_any) }
    var biasDescriptor: dnnl_memory_desc_t { OneDNN.descriptor([outputChannels], dnnl_x) }
}

/// oneDNN primitives for one convolution geometry: forward, backward-data and backward-weights,
/// with weights in the layouts oneDNN picks (`format_tag_any`), which is what selects its fast
/// brgemm/jit kernels for NHWC. Created once per geometry and cached (`ConvolutionPlan.plan(for:)`).
final class ConvolutionPlan: @unchecked Sendable {
    let geometry: ConvolutionGeometry
    let forwardDescriptor: dnnl_primitive_desc_t
    let forward: dnnl_primitive_t
    let forwardWeights: dnnl_memory_desc_t
    private var backwardData: (pd: dnnl_primitive_desc_t, primitive: dnnl_primitive_t, weights: dnnl_memory_desc_t)?
    private var backwardWeights: (pd: dnnl_primitive_desc_t, primitive: dnnl_primitive_t, weights: dnnl_memory_desc_t)?
    private var reorders: [String: OneDNN.Reorder] = [:]
    private let lock = NSLock()

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [ConvolutionGeometry: ConvolutionPlan] = [:]

    static func plan(for geometry: ConvolutionGeometry) -> ConvolutionPlan {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let plan = cache[geometry] { return plan }
        let plan = ConvolutionPlan(geometry)
        cache[geometry] = plan
        return plan
    }

    private var strides: [Int64] { [Int64(geometry.strideY), Int64(geometry.strideX)] }
    private var paddingLeft: [Int64] { [Int64(geometry.padTop), Int64(geometry.padLeft)] }
    private var paddingRight: [Int64] { [Int64(geometry.padBottom), Int64(geometry.padRight)] }

    private init(_ geometry: ConvolutionGeometry) {
        self.geometry = geometry
        var src = geometry.sourceDescriptor, weights = geometry.anyWeightsDescriptor
        var dst = geometry.destinationDescriptor, bias = geometry.biasDescriptor
        var strides = [Int64(geometry.strideY), Int64(geometry.strideX)]
        var padL = [Int64(geometry.padTop), Int64(geometry.padLeft)], padR = [Int64(geometry.padBottom), Int64(geometry.padRight)]
        var desc = dnnl_convolution_desc_t()
        OneDNN.check(withUnsafeMutablePointer(to: &bias) { biasPointer in
            dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &src, &weights,
                                               geometry.hasBias ? biasPointer : nil, &dst, &strides, &padL, &padR)
        }, "convolution forward descriptor \(geometry)")
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, nil, OneDNN.context.engine, nil), "convolution forward pd \(geometry)")
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, pd), "convolution forward primitive")
        forwardDescriptor = pd!
        forward = primitive!
        forwardWeights = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee
    }

    deinit {
        dnnl_primitive_destroy(forward)
        dnnl_primitive_desc_destroy(forwardDescriptor)
        if let b = backwardData { dnnl_primitive_destroy(b.primitive); dnnl_primitive_desc_destroy(b.pd) }
        if let b = backwardWeights { dnnl_primitive_destroy(b.primitive); dnnl_primitive_desc_destroy(b.pd) }
    }

    private func reorder(from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, key: String) -> OneDNN.Reorder {
        lock.lock()
        defer { lock.unlock() }
        if let r = reorders[key] { return r }
        let r = OneDNN.Reorder(from: from, to: to)
        reorders[key] = r
        return r
    }

    /// The weights (OHWI tensor storage) in layout `md`, cached on the storage until it changes,
    /// passed to `body`. A reordered buffer that the cache does not keep (over its budget, or
    /// outside admission) lives until `body` returns, no longer.
    private func withWeights<R>(_ tensor: Tensor, in md: dnnl_memory_desc_t, role: String,
                                _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let user = geometry.userWeightsDescriptor
        if OneDNN.equal(user, md) { return withExtendedLifetime(tensor) { body(tensor.storage.pointer) } }
        let key = "dnnl-\(role)-\(geometry)"
        let buffer = tensor.storage.derivedValue(key: key) { () -> OneDNN.ReorderedBuffer in
            let buffer = OneDNN.ReorderedBuffer(md: md)
            let from = OneDNN.memory(user, tensor.storage.pointer), to = OneDNN.memory(md, buffer.floats)
            reorder(from: user, to: md, key: "to-\(role)").run(from, to)
            dnnl_memory_destroy(from)
            dnnl_memory_destroy(to)
            return buffer
        }
        return withExtendedLifetime(buffer) { body(buffer.floats) }
    }

    func runForward(input: Tensor, weights: Tensor, bias: Tensor?, output: UnsafeMutablePointer<Float>) {
        withWeights(weights, in: forwardWeights, role: "forward") { reordered in
            let src = OneDNN.memory(geometry.sourceDescriptor, input.storage.pointer)
            let w = OneDNN.memory(forwardWeights, reordered)
            let dst = OneDNN.memory(geometry.destinationDescriptor, output)
            var args: [(Int32, dnnl_memory_t)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_WEIGHTS, w), (DNNL_ARG_DST, dst)]
            var b: dnnl_memory_t? = nil
            if let bias {
                b = OneDNN.memory(geometry.biasDescriptor, bias.storage.pointer)
                args.append((DNNL_ARG_BIAS, b!))
            }
            OneDNN.execute(forward, args)
            for m in [src, w, dst] { dnnl_memory_destroy(m) }
            if let b { dnnl_memory_destroy(b) }
        }
    }

    private func backwardDataPrimitive() -> (pd: dnnl_primitive_desc_t, primitive: dnnl_primitive_t, weights: dnnl_memory_desc_t) {
        lock.lock()
        defer { lock.unlock() }
        if let b = backwardData { return b }
        var diffSrc = geometry.sourceDescriptor, weights = geometry.anyWeightsDescriptor, diffDst = geometry.destinationDescriptor
        var strides = self.strides, padL = paddingLeft, padR = paddingRight
        var desc = dnnl_convolution_desc_t()
        OneDNN.check(dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &diffSrc, &weights, &diffDst,
                                                              &strides, &padL, &padR), "convolution backward-data descriptor")
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, nil, OneDNN.context.engine, forwardDescriptor), "backward-data pd")
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, pd), "backward-data primitive")
        let result = (pd!, primitive!, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee)
        backwardData = result
        return result
    }

    private func backwardWeightsPrimitive() -> (pd: dnnl_primitive_desc_t, primitive: dnnl_primitive_t, weights: dnnl_memory_desc_t) {
        lock.lock()
        defer { lock.unlock() }
        if let b = backwardWeights { return b }
        var src = geometry.sourceDescriptor, diffWeights = geometry.anyWeightsDescriptor
        var diffBias = geometry.biasDescriptor, diffDst = geometry.destinationDescriptor
        var strides = self.strides, padL = paddingLeft, padR = paddingRight
        var desc = dnnl_convolution_desc_t()
        let hasBias = geometry.hasBias
        OneDNN.check(withUnsafeMutablePointer(to: &diffBias) { biasPointer in
            dnnl_convolution_backward_weights_desc_init(&desc, dnnl_convolution_direct, &src, &diffWeights,
                                                        hasBias ? biasPointer : nil, &diffDst, &strides, &padL, &padR)
        }, "convolution backward-weights descriptor")
        var pd: dnnl_primitive_desc_t?
        OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, nil, OneDNN.context.engine, forwardDescriptor), "backward-weights pd")
        var primitive: dnnl_primitive_t?
        OneDNN.check(dnnl_primitive_create(&primitive, pd), "backward-weights primitive")
        let result = (pd!, primitive!, dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0)!.pointee)
        backwardWeights = result
        return result
    }

    /// d input = conv_backward_data(d output, weights).
    func runBackwardData(outputGradient: Tensor, weights: Tensor, inputGradient: UnsafeMutablePointer<Float>) {
        let b = backwardDataPrimitive()
        withWeights(weights, in: b.weights, role: "backward-data") { reordered in
            let diffDst = OneDNN.memory(geometry.destinationDescriptor, outputGradient.storage.pointer)
            let w = OneDNN.memory(b.weights, reordered)
            let diffSrc = OneDNN.memory(geometry.sourceDescriptor, inputGradient)
            OneDNN.execute(b.primitive, [(DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_WEIGHTS, w), (DNNL_ARG_DIFF_SRC, diffSrc)])
            for m in [diffDst, w, diffSrc] { dnnl_memory_destroy(m) }
        }
    }

    /// d weights (OHWI) and d bias from the input and d output.
    func runBackwardWeights(input: Tensor, outputGradient: Tensor, weightsGradient: UnsafeMutablePointer<Float>,
                            biasGradient: UnsafeMutablePointer<Float>?) {
        let b = backwardWeightsPrimitive()
        let user = geometry.userWeightsDescriptor
        let direct = OneDNN.equal(user, b.weights)
        let staging = direct ? nil : OneDNN.ReorderedBuffer(md: b.weights)
        let src = OneDNN.memory(geometry.sourceDescriptor, input.storage.pointer)
        let diffDst = OneDNN.memory(geometry.destinationDescriptor, outputGradient.storage.pointer)
        let diffWeights = OneDNN.memory(b.weights, staging?.floats ?? weightsGradient)
        var args: [(Int32, dnnl_memory_t)] = [(DNNL_ARG_SRC, src), (DNNL_ARG_DIFF_DST, diffDst), (DNNL_ARG_DIFF_WEIGHTS, diffWeights)]
        var diffBias: dnnl_memory_t? = nil
        if let biasGradient {
            diffBias = OneDNN.memory(geometry.biasDescriptor, biasGradient)
            args.append((DNNL_ARG_DIFF_BIAS, diffBias!))
        }
        OneDNN.execute(b.primitive, args)
        if staging != nil {
            let out = OneDNN.memory(user, weightsGradient)
            reorder(from: b.weights, to: user, key: "from-backward-weights").run(diffWeights, out)
            dnnl_memory_destroy(out)
        }
        for m in [src, diffDst, diffWeights] { dnnl_memory_destroy(m) }
        if let diffBias { dnnl_memory_destroy(diffBias) }
    }
}
