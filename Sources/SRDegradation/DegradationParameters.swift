import Foundation
import SRImage
import SRTensor

/// The sampled parameters of one degraded image: everything `RealESRGANDegradation.apply` needs
/// to reproduce it exactly (the noise draws come from `noiseSeed`). Logged as JSON lines.
public struct DegradationParameters: Codable, Sendable, Equatable {
    public struct Kernel: Codable, Sendable, Equatable {
        public var kind: String
        public var size: Int
        public var sigmaX: Double?
        public var sigmaY: Double?
        public var theta: Double?
        public var beta: Double?
        public var cutoff: Double?

        /// The kernel, zero-padded to 21.
        public func make() -> BlurKernel {
            let k: BlurKernel
            switch kind {
            case "sinc": k = .circularLowpass(cutoff: cutoff!, size: size)
            case "iso": k = .gaussian(size: size, sigmaX: sigmaX!)
            case "aniso": k = .gaussian(size: size, sigmaX: sigmaX!, sigmaY: sigmaY!, theta: theta!, isotropic: false)
            case "generalized_iso": k = .generalizedGaussian(size: size, sigmaX: sigmaX!, beta: beta!)
            case "generalized_aniso": k = .generalizedGaussian(size: size, sigmaX: sigmaX!, sigmaY: sigmaY!, theta: theta!, beta: beta!, isotropic: false)
            case "plateau_iso": k = .plateau(size: size, sigmaX: sigmaX!, beta: beta!)
            default: k = .plateau(size: size, sigmaX: sigmaX!, sigmaY: sigmaY!, theta: theta!, beta: beta!, isotropic: false)
            }
            return k.padded(to: 21)
        }
    }

    public struct Noise: Codable, Sendable, Equatable {
        /// `gaussian` (σ in 8-bit units) or `poisson` (scale).
        public var kind: String
        public var amount: Double
        public var gray: Bool
    }

    public struct Stage: Codable, Sendable, Equatable {
        public var kernel: Kernel?
        public var resizeScale: Double
        public var resizeMethod: ResizeMethod
        public var noise: Noise?
        public var jpegQuality: Int?
    }

    public var name: String?
    public var scale: Int
    public var sharpen: Bool
    public var first: Stage
    public var second: Stage?
    /// `resize-sinc-jpeg` or `jpeg-resize-sinc`.
    public var finalOrder: String
    public var finalResizeMethod: ResizeMethod
    public var finalSinc: Kernel?
    public var finalJPEGQuality: Int?
    public var roundsTo8Bit: Bool
    public var noiseSeed: UInt64
}
