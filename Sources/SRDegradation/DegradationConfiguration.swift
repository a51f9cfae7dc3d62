import Foundation
import SRImage

/// One stage of the Real-ESRGAN degradation model: blur → resize → noise → JPEG.
/// Keys follow the Real-ESRGAN options (`*_prob`, `*_range`).
public struct DegradationStage: Codable, Sendable, Equatable {
    /// Probability of blurring at all (1 in the first stage, `second_blur_prob` in the second).
    public var blurProbability: Double
    /// Kernel types and probabilities: iso, aniso, generalized_iso, generalized_aniso, plateau_iso, plateau_aniso.
    public var kernelProbabilities: [Double]
    /// Odd kernel sizes to draw from uniformly (Real-ESRGAN: 7…21).
    public var kernelSizes: [Int]
    public var sincProbability: Double
    public var blurSigma: [Double]
    public var betagRange: [Double]
    public var betapRange: [Double]
    /// Probabilities of up, down, keep.
    public var resizeProbabilities: [Double]
    public var resizeRange: [Double]
    /// Resampling methods drawn uniformly.
    public var resizeMethods: [ResizeMethod]
    public var gaussianNoiseProbability: Double
    public var noiseRange: [Double]
    public var poissonScaleRange: [Double]
    public var grayNoiseProbability: Double
    /// JPEG quality range of this stage (empty: none; the second stage's JPEG is the final step's,
    /// `jpeg_range2` of the configuration).
    public var jpegRange: [Int]

    enum CodingKeys: String, CodingKey {
        case blurProbability = "blur_prob", kernelProbabilities = "kernel_prob", kernelSizes = "kernel_sizes"
        case sincProbability = "sinc_prob", blurSigma = "blur_sigma", betagRange = "betag_range", betapRange = "betap_range"
        case resizeProbabilities = "resize_prob", resizeRange = "resize_range", resizeMethods = "resize_methods"
        case gaussianNoiseProbability = "gaussian_noise_prob", noiseRange = "noise_range"
        case poissonScaleRange = "poisson_scale_range", grayNoiseProbability = "gray_noise_prob", jpegRange = "jpeg_range"
    }
}

/// A full degradation model: optional sharpening of the target, two stages, then the final
/// resize to the LR size with a sinc filter and JPEG in one of two random orders.
public struct DegradationConfiguration: Codable, Sendable, Equatable {
    public var name: String
    /// Sharpen the HR target first (`gt_usm`).
    public var sharpen: Bool
    public var first: DegradationStage
    /// The second stage (its resize is relative to the LR size, as Real-ESRGAN's).
    public var second: DegradationStage?
    public var finalSincProbability: Double
    /// JPEG quality range of the final step.
    public var finalJPEGRange: [Int]
    /// Methods of the final resize to the LR size.
    public var finalResizeMethods: [ResizeMethod]
    /// Round the LR to 8 bits (Real-ESRGAN does; StableSR does not).
    public var roundsTo8Bit: Bool

    enum CodingKeys: String, CodingKey {
        case name, sharpen = "gt_usm", first = "stage1", second = "stage2", finalSincProbability = "final_sinc_prob"
        case finalJPEGRange = "jpeg_range2", finalResizeMethods = "final_resize_methods", roundsTo8Bit = "round"
    }

    static let kernelSizes = Array(stride(from: 7, through: 21, by: 2))
    static let torchMethods: [ResizeMethod] = [.torchArea, .torchBilinear, .torchBicubic]
    static let kernelProbabilities = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03]

    static func stage(blur: Double, sigma: [Double], betag: [Double], betap: [Double], resizeProbabilities: [Double],
                      resize: [Double], noise: [Double], poisson: [Double], jpeg: [Int]) -> DegradationStage {
        DegradationStage(blurProbability: blur, kernelProbabilities: kernelProbabilities, kernelSizes: kernelSizes,
                         sincProbability: 0.1, blurSigma: sigma, betagRange: betag, betapRange: betap,
                         resizeProbabilities: resizeProbabilities, resizeRange: resize, resizeMethods: torchMethods,
                         gaussianNoiseProbability: 0.5, noiseRange: noise, poissonScaleRange: poisson,
                         grayNoiseProbability: 0.4, jpegRange: jpeg)
    }

    /// Real-ESRNet x4plus (`options/train_realesrnet_x4plus.yml`).
    public static let realesrgan = DegradationConfiguration(
        name: "realesrgan", sharpen: true,
        first: stage(blur: 1, sigma: [0.2, 3], betag: [0.5, 4], betap: [1, 2], resizeProbabilities: [0.2, 0.7, 0.1],
                     resize: [0.15, 1.5], noise: [1, 30], poisson: [0.05, 3], jpeg: [30, 95]),
        second: stage(blur: 0.8, sigma: [0.2, 1.5], betag: [0.5, 4], betap: [1, 2], resizeProbabilities: [0.3, 0.4, 0.3],
                      resize: [0.3, 1.2], noise: [1, 25], poisson: [0.05, 2.5], jpeg: []),
        finalSincProbability: 0.8, finalJPEGRange: [30, 95], finalResizeMethods: torchMethods, roundsTo8Bit: true)

    /// StableSR (`configs/stableSRNew/v2-finetune_text_T_512.yaml`).
    public static let stablesr = DegradationConfiguration(
        name: "stablesr", sharpen: true,
        first: stage(blur: 1, sigma: [0.2, 1.5], betag: [0.5, 2], betap: [1, 1.5], resizeProbabilities: [0.2, 0.7, 0.1],
                     resize: [0.3, 1.5], noise: [1, 15], poisson: [0.05, 2], jpeg: [60, 95]),
        second: stage(blur: 0.5, sigma: [0.2, 1.0], betag: [0.5, 2], betap: [1, 1.5], resizeProbabilities: [0.3, 0.4, 0.3],
                      resize: [0.6, 1.2], noise: [1, 12], poisson: [0.05, 1], jpeg: []),
        finalSincProbability: 0.8, finalJPEGRange: [60, 100], finalResizeMethods: torchMethods, roundsTo8Bit: false)

    /// ResShift journal (`configs/realsr_swinunet_realesrgan256_journal.yaml`, use_sharp False).
    public static let resshift = DegradationConfiguration(
        name: "resshift", sharpen: false,
        first: stage(blur: 1, sigma: [0.2, 3], betag: [0.5, 4], betap: [1, 2], resizeProbabilities: [0.2, 0.7, 0.1],
                     resize: [0.15, 1.5], noise: [1, 30], poisson: [0.05, 3], jpeg: [30, 95]),
        second: stage(blur: 0.8, sigma: [0.2, 1.5], betag: [0.5, 4], betap: [1, 2], resizeProbabilities: [0.3, 0.4, 0.3],
                      resize: [0.3, 1.2], noise: [1, 25], poisson: [0.05, 2.5], jpeg: []),
        finalSincProbability: 0.8, finalJPEGRange: [30, 95], finalResizeMethods: torchMethods, roundsTo8Bit: true)

    /// Pillow's BOX, BICUBIC and BILINEAR on 8-bit images, the resamplers of the SR3+ seed code.
    static let pillowMethods: [ResizeMethod] = [.pilBox, .pilBicubic, .pilBilinear]

    /// The SR3+ seed's variant of the Real-ESRGAN model (Sahak et al. 2023, as the issue describes
    /// the seed code): blur kernels of radius r ∈ {3, 5, 7, 9, 11} (size 2r + 1 ∈ {7, 11, 15, 19,
    /// 23}), resize ×[0.15, 1.5] in the first stage and ×[0.3, 1.2] in the second with Pillow
    /// BOX/BICUBIC/BILINEAR (8-bit), JPEG in the first stage, and the final sinc and JPEG of the
    /// second stage in Real-ESRGAN's two random orders (sinc → JPEG or JPEG → sinc).
    ///
    /// Deviations, deliberate: the paper gives no exact ranges (algorithms.md §2.1), so blur σ/β,
    /// noise, JPEG qualities and all probabilities are Real-ESRNet's; "sinc–JPEG–sinc" is read as
    /// the final sinc filter on either side of the final JPEG, as Real-ESRGAN orders them; no USM
    /// sharpening of the target (SR3+ scores against the original HR).
    public static let sr3plus: DegradationConfiguration = {
        var configuration = realesrgan
        configuration.name = "sr3plus"
        configuration.sharpen = false
        for keyPath in [\DegradationConfiguration.first, \DegradationConfiguration.second!] as [WritableKeyPath<DegradationConfiguration, DegradationStage>] {
            configuration[keyPath: keyPath].kernelSizes = [3, 5, 7, 9, 11].map { 2 * $0 + 1 }
            configuration[keyPath: keyPath].resizeMethods = pillowMethods
        }
        configuration.finalResizeMethods = pillowMethods
        return configuration
    }()

    /// The SR3 setting: only the MATLAB bicubic downsample.
    public static let bicubic = DegradationConfiguration(
        name: "bicubic", sharpen: false,
        first: DegradationStage(blurProbability: 0, kernelProbabilities: kernelProbabilities, kernelSizes: kernelSizes,
                                sincProbability: 0, blurSigma: [1, 1], betagRange: [1, 1], betapRange: [1, 1],
                                resizeProbabilities: [0, 0, 1], resizeRange: [1, 1], resizeMethods: [.matlabBicubic],
                                gaussianNoiseProbability: 0, noiseRange: [0, 0], poissonScaleRange: [0, 0],
                                grayNoiseProbability: 0, jpegRange: []),
        second: nil, finalSincProbability: 0, finalJPEGRange: [], finalResizeMethods: [.matlabBicubic], roundsTo8Bit: true)

    /// The presets by name.
    public static let presets: [String: DegradationConfiguration] = [
        "realesrgan": realesrgan, "stablesr": stablesr, "resshift": resshift, "sr3plus": sr3plus, "bicubic": bicubic,
    ]
}
