import Foundation

/// A progress bar on standard error: `label [#####-----] 12/40 3.1 it/s ETA 9s`.
/// Redrawn in place on a terminal; on a pipe or file it prints a line every 10% instead.
struct ProgressBar {
    let label: String
    let total: Int
    private(set) var done = 0
    private let start = Date()
    private let interactive = isatty(STDERR_FILENO) != 0
    private var lastReportedTenth = -1

    init(label: String, total: Int) {
        self.label = label
        self.total = max(total, 1)
    }

    mutating func advance(_ note: String = "") {
        done += 1
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        let width = 24
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "%@ [%@] %d/%d %.2f it/s ETA %@ %@", label, bar, done, total, rate,
                          ProgressBar.duration(eta), note)
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done == total ? "\n" : "")).utf8))
        } else {
            let tenth = done * 10 / total
            if tenth != lastReportedTenth || done == total {
                lastReportedTenth = tenth
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
