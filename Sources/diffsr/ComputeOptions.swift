import ArgumentParser
import DiffusionSR

/// Options shared by every subcommand that computes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for computation (Swift kernels, oneDNN, OpenBLAS). Default: all cores.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the settings to the engine.
    func apply() {
        if let threads { Parallelism.setThreadCount(threads) }
    }
}
