import Foundation

/// Per-image metric values and their means, rendered as a table, JSON or CSV.
struct EvaluationReport {
    let metrics: [String]
    let rows: [(name: String, values: [String: Double])]

    /// Mean of each metric over the images that have it (PSNR means skip +∞ of identical pairs
    /// only when every value is finite; an ∞ makes the mean ∞, as NumPy would).
    var means: [String: Double] {
        var result: [String: Double] = [:]
        for metric in metrics {
            let values = rows.compactMap { $0.values[metric] }
            if !values.isEmpty { result[metric] = values.reduce(0, +) / Double(values.count) }
        }
        return result
    }

    func rendered(as format: Evaluate.OutputFormat) -> String {
        switch format {
        case .json: return json()
        case .csv: return csv()
        case .table: return table()
        }
    }

    static func number(_ value: Double, metric: String) -> String {
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value.isNaN { return "nan" }
        return String(format: metric == "ssim" ? "%.4f" : "%.2f", value)
    }

    static func jsonNumber(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "\"inf\"" : "\"-inf\"" }
        if value.isNaN { return "null" }
        return String(format: "%.6f", value)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    func json() -> String {
        func object(_ values: [String: Double]) -> String {
            metrics.compactMap { m in values[m].map { "\(EvaluationReport.jsonString(m)): \(EvaluationReport.jsonNumber($0))" } }
                .joined(separator: ", ")
        }
        let images = rows.map { row in
            "{\"name\": \(EvaluationReport.jsonString(row.name))" + (row.values.isEmpty ? "" : ", ") + object(row.values) + "}"
        }
        return "{\"images\": [" + images.joined(separator: ", ") + "], \"mean\": {" + object(means) + "}}"
    }

    func csv() -> String {
        var lines = ["name," + metrics.joined(separator: ",")]
        func field(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        for row in rows {
            lines.append(field(row.name) + "," + metrics.map { row.values[$0].map { String(format: "%.6f", $0) } ?? "" }.joined(separator: ","))
        }
        lines.append("mean," + metrics.map { means[$0].map { String(format: "%.6f", $0) } ?? "" }.joined(separator: ","))
        return lines.joined(separator: "\n")
    }

    func table() -> String {
        let headers = ["image"] + metrics
        var cells = rows.map { row in [row.name] + metrics.map { m in row.values[m].map { EvaluationReport.number($0, metric: m) } ?? "-" } }
        cells.append(["mean"] + metrics.map { m in means[m].map { EvaluationReport.number($0, metric: m) } ?? "-" })
        let widths = headers.indices.map { i in max(headers[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { i, v in i == 0 ? v.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                                                      : String(repeating: " ", count: widths[i] - v.count) + v }
                .joined(separator: "  ")
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += cells.dropLast().map(line)
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out.append(line(cells.last!))
        return out.joined(separator: "\n")
    }
}
