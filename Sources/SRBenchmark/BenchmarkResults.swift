import Foundation

/// Scores of one image (or means over images): PSNR-Y and SSIM-Y (dB / [0, 1], BasicSR
/// conventions, border of `scale` pixels removed), SR3 consistency (0–255 MSE of the
/// MATLAB-bicubic downsample vs the LR), NIQE (BasicSR, same border). Nil: not computed.
public struct Scores: Codable, Equatable, Sendable {
    public var psnr: Double?
    public var ssim: Double?
    public var consistency: Double?
    public var niqe: Double?

    public init(psnr: Double? = nil, ssim: Double? = nil, consistency: Double? = nil, niqe: Double? = nil) {
        self.psnr = psnr
        self.ssim = ssim
        self.consistency = consistency
        self.niqe = niqe
    }

    /// The value of a metric by name (`psnr`, `ssim`, `consistency`, `niqe`).
    public subscript(metric: String) -> Double? {
        switch metric {
        case "psnr": return psnr
        case "ssim": return ssim
        case "consistency": return consistency
        case "niqe": return niqe
        default: return nil
        }
    }

    /// The mean of each metric over the scores that have it.
    public static func mean(_ scores: [Scores]) -> Scores {
        func average(_ key: KeyPath<Scores, Double?>) -> Double? {
            let values = scores.compactMap { $0[keyPath: key] }
            return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
        }
        return Scores(psnr: average(\.psnr), ssim: average(\.ssim), consistency: average(\.consistency), niqe: average(\.niqe))
    }
}

/// Everything a benchmark measured; rendered as results.md / .csv / .json and report.html.
public struct BenchmarkResults: Codable, Sendable {
    public struct ImageResult: Codable, Sendable {
        public var image: String
        /// Means over the samples of this image.
        public var scores: Scores
        /// Seconds per sample (nil for external outputs).
        public var seconds: Double?
    }

    public struct MethodResult: Codable, Sendable {
        public var name: String
        /// What the column is ("pil-bicubic", "Models/sr3-x4.safetensors (sr3): dpm-solver++ 50 steps").
        public var detail: String
        public var samples: Int
        /// Mean seconds per output image (one sample); for external outputs as their tool recorded
        /// it in `timings.jsonl`, else nil.
        public var secondsPerImage: Double?
        /// Peak resident memory while producing the outputs (process-wide, MiB), nil when unknown.
        public var peakMemoryMiB: Double?
        /// Set for the points of a sampler study.
        public var studyPoint: BenchmarkMethod.StudyPoint?
        public var mean: Scores
        public var images: [ImageResult]
    }

    public var suite: String
    public var scale: Int
    public var lowResolutionSource: String
    /// Metric names computed (subset of psnr, ssim, consistency, niqe).
    public var metrics: [String]
    public var images: [String]
    public var methods: [MethodResult]
    /// The command that produced the results.
    public var command: String
    /// Machine summary (cores, threads).
    public var machine: String

    /// The table's columns (study points excluded).
    public var mainMethods: [MethodResult] { methods.filter { $0.studyPoint == nil } }
    /// The sampler-study points.
    public var studyMethods: [MethodResult] { methods.filter { $0.studyPoint != nil } }

    /// The metric conventions, stated once under every table.
    public var conventions: String {
        "PSNR-Y and SSIM-Y on the Y channel of BT.601 YCbCr (MATLAB convention), 0–255 scale, \(scale) border pixels removed "
            + "(BasicSR); consistency = MSE (0–255) between the MATLAB-bicubic ×1/\(scale) downsample of the output and the LR input "
            + "(SR3 paper); NIQE as BasicSR (same border). ↑ higher is better, ↓ lower is better. Diffusion methods: mean over "
            + "samples; seconds per output image on this machine (\(machine)); peak memory is the process's peak resident size "
            + "while the method ran."
    }
}

/// A benchmark that cannot run as asked (missing or mis-sized outputs, a model of another scale,
/// impossible sampling settings), described in one line.
public struct BenchmarkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
