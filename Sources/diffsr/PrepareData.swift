import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr prepare-data`: build the offline sets from extracted Debian packages (`make data`).
struct PrepareData: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-data",
        abstract: "Build train/val/test-photo/test-classic (HR + bicubic LR x2/x3/x4) from extracted packages.",
        discussion: "Normally run by `make data`, which downloads and verifies the packages first (Tools/data/fetch.sh).")

    @Option(help: "Folder the Debian packages were extracted into.")
    var source: String = ".cache/data/root"

    @Option(help: "The manifest (tab-separated).")
    var manifest: String = "Datasets/manifest.tsv"

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String = "data"

    @OptionGroup var compute: ComputeOptions

    @Option(help: "Comma-separated splits to build (default: all).")
    var splits: String?

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let parsed = try DatasetManifest(contentsOfFile: manifest)
            let wanted = splits.map { Set($0.split(separator: ",").map { String($0) }) }
            let entries = parsed.entries.filter { wanted == nil || wanted!.contains($0.split) || wanted!.contains($0.outputSplit) }
            if entries.isEmpty { throw CommandError("no manifest entries match --splits \(splits ?? "")") }
            let preparation = DatasetPreparation(manifest: parsed, sourceRoot: source, outputRoot: output)
            var progress = ProgressBar(label: "prepare-data", total: entries.count)
            var built = 0
            for entry in entries {
                if try preparation.prepare(entry) { built += 1 }
                progress.advance(entry.name)
            }
            printError("prepare-data: \(built) built, \(entries.count - built) already present, in \(output)/")
        }
    }
}
