import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr degrade`: make reproducible LR images with a degradation model.
struct Degrade: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Degrade images with the Real-ESRGAN higher-order model (presets realesrgan, stablesr, resshift, sr3plus, bicubic).",
        discussion: """
            Each image's sampled parameters can be logged as JSON lines (--params-log) and replayed
            (--replay) to reproduce the same LR images exactly. A preset is a JSON configuration
            (print one with --print-preset) that --config accepts after editing.
            """)

    @Argument(help: "Input images or folders.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "Output folder (LR images as <stem>.png).")
    var output: String?

    @Option(help: "Preset: realesrgan, stablesr, resshift, sr3plus or bicubic.")
    var preset: String = "realesrgan"

    @Option(help: "A degradation configuration (JSON) instead of a preset.")
    var config: String?

    @Option(help: "Downscaling factor.")
    var scale: Int = 4

    @Option(help: "Random seed (image i uses seed + i).")
    var seed: UInt64 = 0

    @Option(help: "Write each image's sampled parameters to this JSON-lines file.")
    var paramsLog: String?

    @Option(help: "Replay the parameters of a JSON-lines log instead of sampling.")
    var replay: String?

    @Flag(help: "Also write the (sharpened) HR target as <stem>_target.png.")
    var saveTarget = false

    @Flag(help: "Print the chosen preset's configuration as JSON and exit.")
    var printPreset = false

    @OptionGroup var compute: ComputeOptions

    /// One line of a parameter log: an image's name and the parameters that degraded it.
    struct LogLine: Codable { var name: String; var parameters: DegradationParameters }

    /// Writes a parameter log (JSON lines, sorted keys) atomically: what `--replay` reads back.
    static func writeLog(_ lines: [LogLine], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = try lines.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Array(text.utf8), to: path)
    }

    func validate() throws {
        if scale < 1 { throw ValidationError("--scale must be at least 1") }
        if !printPreset && (inputs.isEmpty || output == nil) { throw ValidationError("give inputs and --output") }
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let configuration: DegradationConfiguration
            if let config {
                guard let data = FileManager.default.contents(atPath: config) else { throw CommandError("\(config): cannot read") }
                do { configuration = try JSONDecoder().decode(DegradationConfiguration.self, from: data) } catch {
                    throw CommandError("\(config): invalid degradation configuration (\(error))")
                }
            } else {
                guard let p = DegradationConfiguration.presets[preset] else { throw DegradationError.unknownPreset(preset) }
                configuration = p
            }
            if printPreset {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(configuration), as: UTF8.self))
                return
            }
            var replayed: [String: DegradationParameters] = [:]
            if let replay {
                guard let text = try? String(contentsOfFile: replay, encoding: .utf8) else { throw CommandError("\(replay): cannot read") }
                for line in text.split(separator: "\n") where !line.isEmpty {
                    let entry = try JSONDecoder().decode(LogLine.self, from: Data(line.utf8))
                    replayed[entry.name] = entry.parameters
                }
            }
            let output = self.output!
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let files = try imageFiles(in: inputs)
            let degradation = RealESRGANDegradation(configuration: configuration, scale: scale)
            var log: [LogLine] = []
            var bar = ProgressBar(label: "degrade", total: files.count)
            for (index, file) in files.enumerated() {
                let stem = ImageSet.stem(file)
                let parameters: DegradationParameters
                if replay != nil {
                    guard let p = replayed[stem] else { throw CommandError("\(replay!): no parameters for \(stem)") }
                    parameters = p
                } else {
                    var generator = TorchGenerator(seed: seed &+ UInt64(index))
                    parameters = degradation.sampleParameters(using: &generator)
                }
                let (low, target) = try RealESRGANDegradation.apply(try Image(contentsOfFile: file), with: parameters)
                try low.write(toFile: "\(output)/\(stem).png")
                if saveTarget { try target.write(toFile: "\(output)/\(stem)_target.png") }
                log.append(LogLine(name: stem, parameters: parameters))
                bar.advance(stem)
            }
            if let paramsLog { try Degrade.writeLog(log, to: paramsLog) }
        }
    }
}
