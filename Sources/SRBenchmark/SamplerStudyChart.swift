import Foundation

/// The sampler study as an SVG: one panel per metric (PSNR-Y, NIQE, …) against seconds per image,
/// one line per sampler, each point labelled with its step count. Self-contained (no fonts or
/// scripts fetched).
public enum SamplerStudyChart {
    public struct Point: Sendable {
        public var sampler: String
        public var steps: Int
        public var seconds: Double
        public var values: [String: Double]
    }

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    /// The points of the study methods of `results` that have a time.
    public static func points(of results: BenchmarkResults) -> [Point] {
        results.studyMethods.compactMap { method in
            guard let point = method.studyPoint, let seconds = method.secondsPerImage else { return nil }
            var values: [String: Double] = [:]
            for metric in results.metrics { values[metric] = method.mean[metric] }
            return Point(sampler: point.sampler.rawValue, steps: point.steps, seconds: seconds, values: values)
        }
    }

    /// The SVG document, or nil without points.
    public static func svg(points: [Point], metrics: [(key: String, title: String)]) -> String? {
        let metrics = metrics.filter { m in points.contains { $0.values[m.key] != nil } }
        guard !points.isEmpty, !metrics.isEmpty else { return nil }
        let panelWidth = 380.0, panelHeight = 280.0, left = 58.0, right = 16.0, top = 30.0, bottom = 46.0
        var samplers: [String] = []
        for point in points where !samplers.contains(point.sampler) { samplers.append(point.sampler) }
        let width = panelWidth * Double(metrics.count), height = panelHeight + 24
        var svg = [String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">", width, height, width, height),
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"]
        let maxSeconds = (points.map(\.seconds).max() ?? 1) * 1.08
        for (panel, metric) in metrics.enumerated() {
            let x0 = Double(panel) * panelWidth
            let values = points.compactMap { $0.values[metric.key] }
            var low = values.min()!, high = values.max()!
            let pad = max((high - low) * 0.1, 0.05)
            low -= pad; high += pad
            func px(_ s: Double) -> Double { x0 + left + s / maxSeconds * (panelWidth - left - right) }
            func py(_ v: Double) -> Double { top + (high - v) / (high - low) * (panelHeight - top - bottom) }
            svg.append(String(format: "<text x=\"%.1f\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%@ vs seconds per image</text>", x0 + left, escapeXML(metric.title)))
            svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#999\"/>", x0 + left, top, panelWidth - left - right, panelHeight - top - bottom))
            for tick in 0...4 {
                let v = low + (high - low) * Double(tick) / 4, s = maxSeconds * Double(tick) / 4
                svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>", x0 + left - 4, py(v) + 4, v))
                svg.append(String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>", x0 + left, x0 + panelWidth - right, py(v), py(v)))
                svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>", px(s), panelHeight - bottom + 14, s))
            }
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">seconds per image</text>", x0 + left + (panelWidth - left - right) / 2, panelHeight - bottom + 30))
            for (index, sampler) in samplers.enumerated() {
                let color = colors[index % colors.count]
                let line = points.filter { $0.sampler == sampler && $0.values[metric.key] != nil }.sorted { $0.steps < $1.steps }
                let path = line.map { String(format: "%.1f,%.1f", px($0.seconds), py($0.values[metric.key]!)) }.joined(separator: " ")
                svg.append("<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>")
                for point in line {
                    let (x, y) = (px(point.seconds), py(point.values[metric.key]!))
                    svg.append(String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%@\"><title>%@, %d steps: %.3f, %.2f s</title></circle>", x, y, color, escapeXML(sampler), point.steps, point.values[metric.key]!, point.seconds))
                    svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"%@\">%d</text>", x + 5, y - 5, color, point.steps))
                }
            }
        }
        for (index, sampler) in samplers.enumerated() {
            let x = left + Double(index) * 130
            svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"4\" fill=\"%@\"/><text x=\"%.1f\" y=\"%.1f\">%@ (labels: steps)</text>", x, height - 14, colors[index % colors.count], x + 16, height - 9, escapeXML(sampler)))
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    static func escapeXML(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
