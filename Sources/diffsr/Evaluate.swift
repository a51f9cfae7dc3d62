import ArgumentParser
import DiffusionSR
import Foundation

extension MetricChannel: ExpressibleByArgument {}

/// `diffsr evaluate`: score SR outputs with the metrics of the SR literature.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score super-resolved images: PSNR, SSIM (BasicSR conventions), SR3 consistency, NIQE.",
        discussion: """
            PATH arguments are a file or a folder; folders are paired by file stem and every unpaired
            file is reported. PSNR/SSIM are computed on the 0-255 scale in Double, on the Y channel of
            BT.601 YCbCr (MATLAB convention) or on RGB, after removing --crop-border pixels from each
            side (default: the scale, else 0). When --scale is given and an HR image is larger than its
            SR image by less than the scale (it was not a multiple of it), the HR is cropped at the
            bottom/right to a multiple of the scale, as BasicSR's mod_crop does.
            """)

    @Option(help: "Super-resolved image or folder.")
    var sr: String

    @Option(help: "Ground-truth high-resolution image or folder (needed for psnr and ssim).")
    var hr: String?

    @Option(help: "Low-resolution input image or folder (needed for consistency).")
    var lr: String?

    @Option(help: "Upscaling factor (needed for consistency; sets the default crop border).")
    var scale: Int?

    @Option(help: "Comma-separated metrics: psnr, ssim, consistency, niqe. Default: psnr,ssim (+consistency with --lr).")
    var metrics: String?

    @Option(help: "Channel for PSNR/SSIM: y or rgb.")
    var channel: MetricChannel = .y

    @Option(help: "Pixels removed from each side before scoring (default: the scale, else 0).")
    var cropBorder: Int?

    @Option(help: "Output format: table, json or csv.")
    var format: OutputFormat = .table

    @OptionGroup var compute: ComputeOptions

    @Option(help: "NIQE pristine parameters (niqe_pris_params.npz); default: $DIFFSR_NIQE_PARAMS or .cache/niqe/.")
    var niqeParams: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    static let knownMetrics = ["psnr", "ssim", "consistency", "niqe"]

    var metricNames: [String] {
        if let metrics { return metrics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
        return lr == nil ? ["psnr", "ssim"] : ["psnr", "ssim", "consistency"]
    }

    func validate() throws {
        let names = metricNames
        if names.isEmpty { throw ValidationError("--metrics is empty") }
        for name in names where !Evaluate.knownMetrics.contains(name) {
            throw ValidationError("unknown metric '\(name)' (known: \(Evaluate.knownMetrics.joined(separator: ", ")))")
        }
        if (names.contains("psnr") || names.contains("ssim")) && hr == nil {
            throw ValidationError("psnr and ssim need --hr")
        }
        if names.contains("consistency") && (lr == nil || scale == nil) {
            throw ValidationError("consistency needs --lr and --scale")
        }
        if let scale, scale < 1 { throw ValidationError("--scale must be a positive integer, got \(scale)") }
        if let cropBorder, cropBorder < 0 { throw ValidationError("--crop-border must be non-negative, got \(cropBorder)") }
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let names = metricNames
            let border = cropBorder ?? scale ?? 0
            let srSet = try ImageSet(path: sr, role: "SR")
            var hrPaths: [String: String] = [:], lrPaths: [String: String] = [:]
            var order = srSet.files.keys.sorted()
            if let hr {
                let pairs = try srSet.paired(with: try ImageSet(path: hr, role: "HR"), selfRole: "SR", otherRole: "HR")
                order = pairs.map(\.name)
                for pair in pairs { hrPaths[pair.name] = pair.theirs }
            }
            if let lr {
                let pairs = try srSet.paired(with: try ImageSet(path: lr, role: "LR"), selfRole: "SR", otherRole: "LR")
                for pair in pairs { lrPaths[pair.name] = pair.theirs }
            }
            let niqe: NIQE? = try names.contains("niqe")
                ? NIQE(parameters: niqeParams.map { try NIQEParameters(contentsOfFile: $0) } ?? NIQEParameters.locate(),
                       cropBorder: border)
                : nil
            var rows: [(name: String, values: [String: Double])] = []
            var progress = ProgressBar(label: "evaluate", total: order.count)
            for name in order {
                let srPath = srSet.files[name]!
                let image = try Image(contentsOfFile: srPath)
                var values: [String: Double] = [:]
                if let hrPath = hrPaths[name] {
                    var reference = try Image(contentsOfFile: hrPath)
                    reference = try matchReference(reference, to: image, srPath: srPath, hrPath: hrPath)
                    do {
                        if names.contains("psnr") { values["psnr"] = try PSNR(channel: channel, cropBorder: border)(image, reference: reference) }
                        if names.contains("ssim") { values["ssim"] = try SSIM(channel: channel, cropBorder: border)(image, reference: reference) }
                    } catch let error as MetricError {
                        throw CommandError("\(srPath) vs \(hrPath): \(error)")
                    }
                }
                if names.contains("consistency"), let lrPath = lrPaths[name], let scale {
                    let low = try Image(contentsOfFile: lrPath)
                    do {
                        values["consistency"] = try Consistency(scale: scale)(image, lowResolution: low)
                    } catch let error as MetricError {
                        throw CommandError("\(srPath) vs \(lrPath): \(error)")
                    }
                }
                if let niqe {
                    do { values["niqe"] = try niqe(image) } catch let error as MetricError { throw CommandError("\(srPath): \(error)") }
                }
                rows.append((name, values))
                progress.advance(name)
            }
            print(EvaluationReport(metrics: names, rows: rows).rendered(as: format))
        }
    }

    /// The HR image cropped to the SR size when it only differs by a mod-crop to the scale.
    func matchReference(_ reference: Image, to image: Image, srPath: String, hrPath: String) throws -> Image {
        if reference.width == image.width && reference.height == image.height { return reference }
        if let scale {
            let cropped = reference.modCropped(to: scale)
            if cropped.width == image.width && cropped.height == image.height { return cropped }
        }
        throw CommandError("\(srPath) is \(image.width)x\(image.height) but \(hrPath) is \(reference.width)x\(reference.height)")
    }
}
