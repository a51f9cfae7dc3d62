import Foundation
import SRImage
import SRTensor

/// The Real-ESRGAN higher-order degradation (Wang et al. 2021), parameters sampled separately from
/// their application so every image can be logged and replayed.
///
/// Matches: Real-ESRGAN `realesrgan_dataset.py` (kernel sampling: sizes 7…21, sinc with
/// `sinc_prob` and ω ~ U(π/3, π) below size 13 else U(π/5, π), `random_mixed_kernels` with
/// β ~ U(β_min, 1) or U(1, β_max) with probability ½ each) and `realesrnet_model.py` `feed_data`
/// (order: [USM] → blur → resize (up/down/keep, random torch mode) → noise → JPEG → [second blur] →
/// resize relative to the LR size → noise → final resize + sinc + JPEG in one of two orders → round).
/// Limitations: per image on the CPU (no training-pair queue); Poisson draws are not NumPy's; JPEG is
/// libjpeg (DiffJPEG in the reference uses the same standard tables and quality scaling).
public struct RealESRGANDegradation: Sendable {
    public var configuration: DegradationConfiguration
    public var scale: Int

    public init(configuration: DegradationConfiguration, scale: Int) {
        self.configuration = configuration
        self.scale = scale
    }

    // MARK: Sampling

    static func uniform(_ range: [Double], _ g: inout TorchGenerator) -> Double {
        range[0] + (range[1] - range[0]) * g.uniformDouble()
    }

    static func choice(_ probabilities: [Double], _ g: inout TorchGenerator) -> Int {
        let total = probabilities.reduce(0, +)
        var u = g.uniformDouble() * total
        for (i, p) in probabilities.enumerated() {
            if u < p { return i }
            u -= p
        }
        return probabilities.count - 1
    }

    func sampleKernel(_ stage: DegradationStage, _ g: inout TorchGenerator) -> DegradationParameters.Kernel {
        let size = stage.kernelSizes[Int(g.next() % UInt64(stage.kernelSizes.count))]
        if g.uniformDouble() < stage.sincProbability {
            let cutoff = size < 13 ? Self.uniform([Double.pi / 3, Double.pi], &g) : Self.uniform([Double.pi / 5, Double.pi], &g)
            return .init(kind: "sinc", size: size, cutoff: cutoff)
        }
        let kinds = ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"]
        let kind = kinds[Self.choice(stage.kernelProbabilities, &g)]
        let iso = kind.hasSuffix("iso") && !kind.hasSuffix("aniso")
        let sx = Self.uniform(stage.blurSigma, &g)
        let sy = iso ? sx : Self.uniform(stage.blurSigma, &g)
        let theta = iso ? 0 : Self.uniform([-Double.pi, Double.pi], &g)
        var beta: Double? = nil
        if kind.hasPrefix("generalized") || kind.hasPrefix("plateau") {
            let range = kind.hasPrefix("generalized") ? stage.betagRange : stage.betapRange
            beta = g.uniformDouble() < 0.5 ? Self.uniform([range[0], 1], &g) : Self.uniform([1, range[1]], &g)
        }
        return .init(kind: kind, size: size, sigmaX: sx, sigmaY: sy, theta: theta, beta: beta)
    }

    func sampleStage(_ stage: DegradationStage, _ g: inout TorchGenerator) -> DegradationParameters.Stage {
        let kernel = g.uniformDouble() < stage.blurProbability ? sampleKernel(stage, &g) : nil
        let scale: Double
        switch Self.choice(stage.resizeProbabilities, &g) {
        case 0: scale = Self.uniform([1, stage.resizeRange[1]], &g)
        case 1: scale = Self.uniform([stage.resizeRange[0], 1], &g)
        default: scale = 1
        }
        let method = stage.resizeMethods[Int(g.next() % UInt64(stage.resizeMethods.count))]
        var noise: DegradationParameters.Noise? = nil
        if stage.noiseRange[1] > 0 || stage.poissonScaleRange[1] > 0 {
            let gaussian = g.uniformDouble() < stage.gaussianNoiseProbability
            let amount = Self.uniform(gaussian ? stage.noiseRange : stage.poissonScaleRange, &g)
            noise = .init(kind: gaussian ? "gaussian" : "poisson", amount: amount, gray: g.uniformDouble() < stage.grayNoiseProbability)
        }
        let quality = stage.jpegRange.count == 2 ? stage.jpegRange[0] + Int(g.next() % UInt64(stage.jpegRange[1] - stage.jpegRange[0] + 1)) : nil
        return .init(kernel: kernel, resizeScale: scale, resizeMethod: method, noise: noise, jpegQuality: quality)
    }

    /// Draws the parameters of one degraded image.
    public func sampleParameters(using g: inout TorchGenerator) -> DegradationParameters {
        let c = configuration
        let first = sampleStage(c.first, &g)
        let second = c.second.map { sampleStage($0, &g) }
        let order = g.uniformDouble() < 0.5 ? "resize-sinc-jpeg" : "jpeg-resize-sinc"
        let method = c.finalResizeMethods[Int(g.next() % UInt64(c.finalResizeMethods.count))]
        var sinc: DegradationParameters.Kernel? = nil
        if g.uniformDouble() < c.finalSincProbability {
            let size = DegradationConfiguration.kernelSizes[Int(g.next() % UInt64(DegradationConfiguration.kernelSizes.count))]
            sinc = .init(kind: "sinc", size: size, cutoff: Self.uniform([Double.pi / 3, Double.pi], &g))
        }
        let quality = c.finalJPEGRange.count == 2 ? c.finalJPEGRange[0] + Int(g.next() % UInt64(c.finalJPEGRange[1] - c.finalJPEGRange[0] + 1)) : nil
        return DegradationParameters(name: c.name, scale: scale, sharpen: c.sharpen, first: first, second: second, finalOrder: order,
                                     finalResizeMethod: method, finalSinc: sinc, finalJPEGQuality: quality,
                                     roundsTo8Bit: c.roundsTo8Bit, noiseSeed: g.next())
    }

    // MARK: Application

    static func noise(_ image: Image, _ noise: DegradationParameters.Noise?, _ g: inout TorchGenerator) -> Image {
        guard let noise else { return image }
        return noise.kind == "gaussian"
            ? DegradationOperations.gaussianNoise(image, sigma: noise.amount, gray: noise.gray, using: &g)
            : DegradationOperations.poissonNoise(image, scale: noise.amount, gray: noise.gray, using: &g)
    }

    /// Degrades an HR image (RGB, [0, 1]) with `parameters`. The HR is first cropped at the
    /// bottom/right to a multiple of the scale.
    /// - Returns: the LR image (HR size / scale) and the target (the cropped HR, sharpened when asked).
    public static func apply(_ input: Image, with p: DegradationParameters) throws -> (lowResolution: Image, target: Image) {
        guard input.width >= p.scale, input.height >= p.scale else { throw DegradationError.tooSmall("\(input.width)x\(input.height) at ×\(p.scale)") }
        let hr = input.modCropped(to: p.scale)
        var g = TorchGenerator(seed: p.noiseSeed)
        let target = p.sharpen ? DegradationOperations.sharpen(hr) : hr
        let (lw, lh) = (hr.width / p.scale, hr.height / p.scale)
        var x = target
        if let k = p.first.kernel { x = DegradationOperations.blur(x, kernel: k.make()) }
        if p.first.resizeScale != 1 || p.first.resizeMethod == .matlabBicubic {
            let scale = p.first.resizeMethod == .matlabBicubic && p.second == nil ? 1 / Double(p.scale) : p.first.resizeScale
            x = x.resized(scale: scale, method: p.first.resizeMethod)
        }
        x = noise(x, p.first.noise, &g)
        if let q = p.first.jpegQuality { x = try DegradationOperations.jpeg(x, quality: q) }
        if let s = p.second {
            if let k = s.kernel, k.size / 2 < min(x.width, x.height) { x = DegradationOperations.blur(x, kernel: k.make()) }
            let w = max(Int(Double(hr.width) / Double(p.scale) * s.resizeScale), 1), h = max(Int(Double(hr.height) / Double(p.scale) * s.resizeScale), 1)
            x = x.resized(width: w, height: h, method: s.resizeMethod)
            x = noise(x, s.noise, &g)
        }
        let sinc = p.finalSinc?.make()
        func finalResize(_ image: Image) -> Image {
            image.width == lw && image.height == lh ? image : image.resized(width: lw, height: lh, method: p.finalResizeMethod)
        }
        func filter(_ image: Image) -> Image {
            guard let sinc, sinc.size / 2 < min(image.width, image.height) else { return image }
            return DegradationOperations.blur(image, kernel: sinc)
        }
        if p.finalOrder == "resize-sinc-jpeg" {
            x = filter(finalResize(x))
            if let q = p.finalJPEGQuality { x = try DegradationOperations.jpeg(x, quality: q) }
        } else {
            if let q = p.finalJPEGQuality { x = try DegradationOperations.jpeg(x, quality: q) }
            x = filter(finalResize(x))
        }
        x = x.clipped()
        if p.roundsTo8Bit { x = x.quantized() }
        return (x, target)
    }
}

/// Errors of degradation.
public enum DegradationError: Error, CustomStringConvertible {
    case tooSmall(String)
    case unknownPreset(String)

    public var description: String {
        switch self {
        case .tooSmall(let what): return "image too small to degrade: \(what)"
        case .unknownPreset(let name): return "unknown degradation preset '\(name)' (known: \(DegradationConfiguration.presets.keys.sorted().joined(separator: ", ")))"
        }
    }
}
