import ArgumentParser
import Foundation

/// The `diffsr` command-line tool.
@main
struct DiffSR: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffsr",
        abstract: "Image super-resolution with diffusion models, and the SR evaluation protocol.",
        subcommands: [Upscale.self, Train.self, Benchmark.self, Bench.self, Degrade.self, Resize.self, Evaluate.self, Convert.self, Inspect.self, PrepareData.self])

    static func main() {
        Interrupt.install()
        Self.main(nil)
    }
}

/// Prints one line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
