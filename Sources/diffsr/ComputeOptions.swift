import ArgumentParser
import DiffusionSR

/// Options shared by every subcommand that computes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for computation (Swift kernels, oneDNN, OpenBLAS). Default: all cores.")
    var threads: Int?

    @Option(help: "MiB of weights kept in the kernels' layouts (oneDNN reorders, Winograd-transformed filters); above it they are recomputed per use. Default: 2048, or DIFFSR_WEIGHT_CACHE_MB. Large models (StableSR) run faster with more, at that much more memory.")
    var weightCache: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let weightCache, weightCache < 0 { throw ValidationError("--weight-cache must be non-negative, got \(weightCache)") }
    }

    /// Applies the settings to the engine.
    func apply() {
        if let threads { Parallelism.setThreadCount(threads) }
        if let weightCache { DerivedValueCache.budget = weightCache << 20 }
    }
}
