import Foundation

/// The process's peak resident memory, resettable on Linux: `reset()` writes 5 to
/// `/proc/self/clear_refs` (which resets `VmHWM` to the current RSS), `current()` reads `VmHWM`
/// from `/proc/self/status`.
///
/// Limitations: process-wide (everything resident counts, including what was loaded before the
/// reset); where `/proc` is unavailable `current()` returns nil.
public enum PeakMemory {
    /// Resets the high-water mark to the current resident size. Returns whether it could.
    @discardableResult
    public static func reset() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// Peak resident memory since the last reset (or process start), in MiB.
    public static func current() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Double(fields[1]) { return kib / 1024 }
        }
        return nil
    }
}
