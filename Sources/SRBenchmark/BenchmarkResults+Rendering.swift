import Foundation

extension BenchmarkResults {
    public static let metricTitles: [String: String] = ["psnr": "PSNR-Y ↑", "ssim": "SSIM-Y ↑", "consistency": "Consistency ↓", "niqe": "NIQE ↓"]

    /// A metric value as printed in tables (SSIM 4 decimals, others 2).
    public static func formatted(_ value: Double?, metric: String) -> String {
        guard let value else { return "–" }
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "∞" : "−∞" }
        return String(format: metric == "ssim" ? "%.4f" : "%.2f", value)
    }

    static func formattedSeconds(_ value: Double?) -> String { value.map { String(format: $0 < 10 ? "%.3f" : "%.1f", $0) } ?? "–" }
    static func formattedMemory(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "–" }

    /// `results.md`: the paper-style table (one row per method), the sampler study when present,
    /// PSNR-Y per image, and the conventions.
    public func markdown() -> String {
        var lines = ["# Benchmark: \(suite) ×\(scale)", "", "\(images.count) images; \(lowResolutionSource).", ""]
        let header = ["Method"] + metrics.map { Self.metricTitles[$0] ?? $0 } + ["s/image", "peak MiB"]
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + header.indices.map { $0 == 0 ? "---" : "---:" }.joined(separator: "|") + "|")
        for method in mainMethods {
            let cells = [method.name] + metrics.map { Self.formatted(method.mean[$0], metric: $0) }
                + [Self.formattedSeconds(method.secondsPerImage), Self.formattedMemory(method.peakMemoryMiB)]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += ["", "Methods:"]
        for method in mainMethods { lines.append("- **\(method.name)**: \(method.detail)") }
        if !studyMethods.isEmpty {
            let studied = studyMethods[0].images.map(\.image)
            lines += ["", "## Sampler study", "", "\(studied.count) image\(studied.count == 1 ? "" : "s"): \(studied.joined(separator: ", ")).", "", "| Sampler | steps | " + metrics.map { Self.metricTitles[$0] ?? $0 }.joined(separator: " | ") + " | s/image |",
                      "|---|---:|" + metrics.map { _ in "---:" }.joined(separator: "|") + "|---:|"]
            for method in studyMethods {
                let point = method.studyPoint!
                lines.append("| \(point.sampler.rawValue) | \(point.steps) | " + metrics.map { Self.formatted(method.mean[$0], metric: $0) }.joined(separator: " | ")
                             + " | \(Self.formattedSeconds(method.secondsPerImage)) |")
            }
        }
        if metrics.contains("psnr") {
            lines += ["", "## PSNR-Y per image", "", "| Image | " + mainMethods.map(\.name).joined(separator: " | ") + " |",
                      "|---|" + mainMethods.map { _ in "---:" }.joined(separator: "|") + "|"]
            for (index, image) in images.enumerated() {
                lines.append("| \(image) | " + mainMethods.map { Self.formatted($0.images[index].scores.psnr, metric: "psnr") }.joined(separator: " | ") + " |")
            }
        }
        lines += ["", "Conventions: \(conventions)", "", "Command: `\(command)`", ""]
        return lines.joined(separator: "\n")
    }

    /// `results.csv`: one row per method and image, then one `mean` row per method.
    public func csv() -> String {
        func field(_ s: String) -> String {
            s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func number(_ v: Double?) -> String { v.map { String(format: "%.6f", $0) } ?? "" }
        var lines = [(["method", "sampler", "steps", "image"] + metrics + ["seconds", "peak_mib"]).joined(separator: ",")]
        for method in methods {
            let prefix = [field(method.name), method.studyPoint?.sampler.rawValue ?? "", method.studyPoint.map { String($0.steps) } ?? ""]
            for image in method.images {
                lines.append((prefix + [field(image.image)] + metrics.map { number(image.scores[$0]) } + [number(image.seconds), ""]).joined(separator: ","))
            }
            lines.append((prefix + ["mean"] + metrics.map { number(method.mean[$0]) }
                          + [number(method.secondsPerImage), number(method.peakMemoryMiB)]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `results.json`: the whole structure (non-finite numbers as the strings "inf", "-inf", "nan").
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
