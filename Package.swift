// swift-tools-version:6.0
import Foundation
import PackageDescription

/// Vector code generation. The engine's Swift kernels are written in SIMD8<Float> for AVX2 (eight
/// lanes, one ymm register); without a CPU setting the compiler targets baseline x86-64 (SSE2,
/// four lanes, no FMA). Where the building machine has AVX2, FMA, BMI2, F16C and MOVBE (Intel
/// Haswell and later, every AMD Zen), the Swift targets are compiled for `haswell`.
/// `DIFFSR_TARGET_CPU=<cpu>` overrides the choice (`x86-64` for a portable build; empty: none).
let targetCPU: String? = {
    if let cpu = ProcessInfo.processInfo.environment["DIFFSR_TARGET_CPU"] { return cpu.isEmpty ? nil : cpu }
    #if arch(x86_64) && os(Linux)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    return flags.isSuperset(of: ["avx2", "fma", "bmi2", "f16c", "movbe"]) ? "haswell" : nil
    #else
    return nil
    #endif
}()

let package = Package(
    name: "DiffusionSR",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "DiffusionSR", targets: ["DiffusionSR"]),
        .executable(name: "diffsr", targets: ["diffsr"]),
        .executable(name: "diffsr-bench", targets: ["diffsr-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),   // StableSR's reference YAML configs
    ],
    targets: [
        // System libraries (Debian -dev packages, installed by the Makefile).
        .systemLibrary(name: "_CPNG", path: "Sources/_CPNG"),    // libpng-dev
        .systemLibrary(name: "_CJPEG", path: "Sources/_CJPEG"),  // libjpeg62-turbo-dev
        .systemLibrary(name: "_CDNNL", path: "Sources/_CDNNL"),  // libdnnl-dev (oneDNN 2.6)
        .systemLibrary(name: "_CBLAS", path: "Sources/_CBLAS"),  // libopenblas-dev

        .systemLibrary(name: "_COMP", path: "Sources/_COMP"),    // libgomp (GCC's OpenMP runtime)
        .target(name: "SRSupport", dependencies: ["_COMP"], exclude: ["README.md"]),
        .target(
            name: "SRTensor", dependencies: ["SRSupport", "_CDNNL", "_CBLAS"], exclude: ["README.md"],
            // Prefer Debian's OpenMP build of OpenBLAS at run time (libopenblas0-openmp): one OpenMP
            // pool for oneDNN, OpenBLAS and the Swift loops. Without it, the default build is used.
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "/usr/lib/x86_64-linux-gnu/openblas-openmp"])]),
        .target(name: "SRNN", dependencies: ["SRTensor", "SRSupport"], exclude: ["README.md"]),
        .target(name: "SRDiffusion", dependencies: ["SRTensor", "SRNN", "SRImage"], exclude: ["README.md"]),
        .target(name: "SRModels", dependencies: ["SRNN", "SRTensor", "SRCheckpoint", .product(name: "Yams", package: "Yams")],
                exclude: ["README.md"]),
        .target(name: "SRCheckpoint", dependencies: ["SRTensor", "SRNN", "SRSupport"], exclude: ["README.md"]),
        .target(name: "SRImage", dependencies: ["SRSupport", "_CPNG", "_CJPEG"], exclude: ["README.md"]),
        .target(name: "SRDegradation", dependencies: ["SRImage", "SRTensor", "SRSupport"], exclude: ["README.md"]),
        .target(name: "SRMetrics", dependencies: ["SRImage", "SRSupport"], exclude: ["README.md"]),
        .target(name: "SRPipelines", dependencies: ["SRDiffusion", "SRModels", "SRCheckpoint", "SRImage", "SRTensor", "SRNN"],
                exclude: ["README.md"]),
        .target(name: "SRTraining", dependencies: ["SRPipelines", "SRDegradation", "SRImage", "SRTensor", "SRNN", "SRModels", "SRDiffusion", "SRCheckpoint", "SRMetrics", "SRSupport"], exclude: ["README.md"]),
        .target(name: "SRBenchmark", dependencies: ["SRPipelines", "SRDiffusion", "SRDegradation", "SRMetrics", "SRImage", "SRCheckpoint", "SRTensor", "SRSupport"], exclude: ["README.md"]),
        .target(name: "DiffusionSR", dependencies: ["SRPipelines", "SRBenchmark", "SRSupport", "SRDegradation", "SRTensor", "SRNN", "SRCheckpoint", "SRModels", "SRDiffusion", "SRImage", "SRMetrics", "SRTraining"]),
        .executableTarget(
            name: "diffsr",
            dependencies: [
                "DiffusionSR",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["README.md"]),

        .executableTarget(name: "diffsr-bench", dependencies: ["SRTensor", "SRNN"], path: "Benchmarks/Sources/diffsr-bench"),   // Benchmarks/README.md

        .target(name: "_TestSupport", dependencies: ["SRImage", "SRTensor"], path: "Tests/_TestSupport"),
        .testTarget(name: "SRTensorTests", dependencies: ["SRTensor", "SRSupport", "_COMP", "_TestSupport"]),
        .testTarget(name: "SRNNTests", dependencies: ["SRNN", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRCheckpointTests", dependencies: ["SRCheckpoint", "SRNN", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRModelsTests", dependencies: ["SRModels", "SRCheckpoint", "SRNN", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRDiffusionTests", dependencies: ["SRDiffusion", "SRPipelines", "SRModels", "SRImage", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRDegradationTests", dependencies: ["SRDegradation", "SRImage", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRImageTests", dependencies: ["SRImage", "_TestSupport"]),
        .testTarget(name: "SRMetricsTests", dependencies: ["SRMetrics", "SRImage", "_TestSupport"]),
        .testTarget(name: "SRPipelinesTests", dependencies: ["SRPipelines", "SRDiffusion", "SRModels", "SRNN", "SRCheckpoint", "SRImage", "SRTensor", "_TestSupport"]),
        .testTarget(name: "SRTrainingTests", dependencies: ["SRTraining", "SRPipelines", "SRDiffusion", "_TestSupport"]),
        .testTarget(name: "SRBenchmarkTests", dependencies: ["SRBenchmark", "SRPipelines", "SRDiffusion", "SRDegradation", "SRMetrics", "SRImage", "SRModels", "SRTensor", "_TestSupport"]),
        .testTarget(name: "diffsrTests", dependencies: ["diffsr", "_TestSupport"]),
    ]
)

/// `DIFFSR_FMA`: the code may use fused multiply-adds (`addingProduct`), which the chosen CPU runs in
/// one instruction; without it they would be library calls per lane, so the kernels multiply and
/// add instead. Set for `haswell` (the automatic choice) and the Zen / Skylake-and-later names.
let fmaCPUs: Set<String> = ["haswell", "broadwell", "skylake", "skylake-avx512", "cascadelake", "icelake-server",
                            "sapphirerapids", "alderlake", "znver1", "znver2", "znver3", "znver4", "x86-64-v3", "x86-64-v4"]

/// The engine's hot loops (generic SIMD kernels, resampling, degradations, metrics) are optimized in
/// debug builds too: unoptimized, their unspecialized generics are very slow (one StableSR upscale
/// of the 64² sample with the shipped model: over 90 s in a plain debug build, 35 s so), which made
/// `make test` slow and left shipped-model tests out of it. The other modules stay at `-Onone`, and
/// `-O` keeps every precondition and overflow check. `DIFFSR_DEBUG_ONONE=1` builds them all unoptimized
/// (for stepping through a kernel in a debugger).
let optimizedInDebug: Set<String> = ProcessInfo.processInfo.environment["DIFFSR_DEBUG_ONONE"] == nil
    ? ["SRSupport", "SRTensor", "SRNN", "SRImage", "SRDegradation", "SRMetrics"] : []

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + (targetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? [])
        + (targetCPU.map(fmaCPUs.contains) == true ? [.define("DIFFSR_FMA")] : [])
        + (optimizedInDebug.contains(target.name) ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : [])
}
