import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr benchmark`: the SR3 paper's evaluation protocol on a suite, as tables and an HTML report.
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run methods on a test suite and write results.md/.csv/.json and a self-contained report.html.",
        discussion: """
            --suite test-photo or test-classic reads data/<suite>/HR and its LR_bicubic/X<scale> (after
            `make data`); a folder DIR reads DIR/HR (or DIR itself) with DIR/LR_bicubic/X<scale> when
            present, else makes the LR by MATLAB bicubic. --degradation PRESET makes the LR inputs with
            a degradation model instead (image i uses seed + i; parameters logged to
            degradation-params.jsonl, inputs saved in lr/).
            Methods: bicubic, lanczos (Pillow), any resize method (matlab-bicubic, …), the shipped models
            regression, sr3, sr3plus, stablesr (<alias>-x<scale> in Models/), other shipped model names, or
            .safetensors files; METHOD@aug=τ runs an SR3+ model at test-time augmentation level τ (one
            column per level: sr3plus@aug=0,sr3plus@aug=0.2), METHOD@w=W a StableSR model at CFW
            weight W (stablesr@w=0,stablesr@w=1); --external NAME=DIR adds the outputs of another tool (e.g. Real-ESRGAN
            from Tools/) as a column. Outputs are cached in --cache (default <output>/cache): a rerun
            with the same settings reuses them, an interrupted run resumes.
            --study-model M sweeps --study-samplers × --study-steps for one model and plots quality
            against time (sampler-study.svg, also in the report).
            """)

    @Option(help: "test-photo, test-classic, or a folder.")
    var suite: String

    @Option(help: "Upscaling factor.")
    var scale: Int = 4

    @Option(help: "Comma-separated methods (default: bicubic, lanczos and the shipped regression/sr3/sr3plus models).")
    var methods: String?

    @Option(help: "An external method's outputs as NAME=DIR (repeatable).")
    var external: [String] = []

    @Option(help: "Make the LR inputs with this degradation preset (realesrgan, stablesr, resshift, sr3plus, bicubic).")
    var degradation: String?

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Seed of the degradation (image i: seed + i) and of the diffusion methods (image i, sample k: seed + 1000k + i).")
    var seed: UInt64 = 0

    @Option(help: "Samples per image for the diffusion methods (metrics averaged).")
    var samples: Int = 1

    @Option(help: "Model for a sampler study (a method name or file).")
    var studyModel: String?

    @Option(help: "Samplers of the study (comma-separated).")
    var studySamplers: String = "ddim,dpm-solver++"

    @Option(help: "Step counts of the study (comma-separated).")
    var studySteps: String = "5,10,20,50"

    @Option(help: "Images of the suite used by the study (the first N; default all).")
    var studyImages: Int?

    @Option(help: "Comma-separated metrics: psnr, ssim, consistency, niqe.")
    var metrics: String = "psnr,ssim,consistency,niqe"

    @Option(help: "Side of the detail crop shown per image in the report, in HR pixels (0: whole images).")
    var reportCrop: Int = 192

    @Option(help: "Images shown in the report (the first N; default all). The tables always cover every image.")
    var reportImages: Int?

    @Option(name: .shortAndLong, help: "Output folder.")
    var output: String

    @Option(help: "Cache folder for the methods' outputs (default: <output>/cache).")
    var cache: String?

    @Option(help: "Data root holding the named suites.")
    var data: String = "data"

    @Option(help: "NIQE pristine parameters (niqe_pris_params.npz); default: $DIFFSR_NIQE_PARAMS or .cache/niqe/.")
    var niqeParams: String?

    @OptionGroup var compute: ComputeOptions

    var metricNames: [String] { metrics.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }

    func validate() throws {
        if scale < 1 { throw ValidationError("--scale must be at least 1") }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        if reportCrop < 0 { throw ValidationError("--report-crop must be non-negative") }
        for name in metricNames where !Evaluate.knownMetrics.contains(name) {
            throw ValidationError("unknown metric '\(name)' (known: \(Evaluate.knownMetrics.joined(separator: ", ")))")
        }
        if let reportImages, reportImages < 1 { throw ValidationError("--report-images must be at least 1") }
        if let studyImages, studyImages < 1 { throw ValidationError("--study-images must be at least 1") }
        for entry in external where !entry.contains("=") { throw ValidationError("--external takes NAME=DIR, got '\(entry)'") }
    }

    var settings: SamplingSettings { sampling.settings(seed: seed, samples: samples) }

    /// The methods named by --methods (or the defaults) and --external.
    func resolveMethods() throws -> [BenchmarkMethod] {
        var result: [BenchmarkMethod] = []
        let names: [String]
        if let methods {
            names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else {
            names = ["bicubic", "lanczos"] + ["regression", "sr3", "sr3plus"].filter {
                ModelLocator.resolve(BenchmarkMethod.modelName(forAlias: $0, scale: scale)!) != nil
            }
        }
        for entry in names {
            let (name, option) = try Self.methodOption(entry)
            if let resize = BenchmarkMethod.resizeAliases[name] ?? ResizeMethod(rawValue: name) {
                if let option { throw CommandError("\(entry): @\(option.key)= applies to \(option.models), not to resize methods") }
                result.append(BenchmarkMethod(name: name, kind: .resize(resize)))
            } else {
                var sampling = settings
                switch option {
                case .augmentation(let level)?: sampling.augmentationLevel = level
                case .decoderWeight(let w)?: sampling.decoderWeight = w
                case nil: break
                }
                result.append(BenchmarkMethod(name: Self.displayName(name) + (option.map { " \($0.key) \($0.value)" } ?? ""),
                                              kind: .model(path: try modelPath(name), sampling: sampling)))
            }
        }
        for entry in external {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard isFolder(parts[1]) else { throw CommandError("--external \(entry): \(parts[1]) is not a folder") }
            result.append(BenchmarkMethod(name: parts[0], kind: .external(folder: parts[1])))
        }
        if result.isEmpty { throw CommandError("no methods to run") }
        let duplicates = Dictionary(grouping: result, by: \.name).filter { $0.value.count > 1 }.keys
        if !duplicates.isEmpty { throw CommandError("method named twice: \(duplicates.sorted().joined(separator: ", "))") }
        return result
    }

    /// A per-column option: `METHOD@aug=τ` (an SR3+ model at test-time augmentation level τ) or
    /// `METHOD@w=W` (a StableSR model at CFW weight W).
    enum MethodOption {
        case augmentation(Double), decoderWeight(Double)
        var key: String { if case .augmentation = self { "aug" } else { "w" } }
        var value: Double { switch self { case .augmentation(let v), .decoderWeight(let v): v } }
        var models: String { if case .augmentation = self { "SR3+ models" } else { "StableSR models" } }
    }

    /// Splits `METHOD@aug=τ` or `METHOD@w=W` into the method and its option (values in [0, 1]).
    static func methodOption(_ entry: String) throws -> (String, MethodOption?) {
        guard let at = entry.firstIndex(of: "@") else { return (entry, nil) }
        let option = entry[entry.index(after: at)...], name = String(entry[..<at])
        if option.hasPrefix("aug="), let level = Double(option.dropFirst(4)), (0...1).contains(level) { return (name, .augmentation(level)) }
        if option.hasPrefix("w="), let w = Double(option.dropFirst(2)), (0...1).contains(w) { return (name, .decoderWeight(w)) }
        throw CommandError("\(entry): expected METHOD@aug=LEVEL (SR3+) or METHOD@w=WEIGHT (StableSR), the value in [0, 1]")
    }

    static func displayName(_ name: String) -> String {
        name.hasSuffix(".safetensors") ? URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent : name
    }

    func modelPath(_ name: String) throws -> String {
        let candidate = BenchmarkMethod.modelName(forAlias: name, scale: scale) ?? name
        if let path = ModelLocator.resolve(candidate) { return path }
        let names = ModelLocator.available()
        throw CommandError("unknown method '\(name)': not a resize method, shipped model (\(candidate)) or file"
                           + (names.isEmpty ? " (no models in Models/)" : " (shipped: \(names.joined(separator: ", ")))"))
    }

    /// The sampler-study methods.
    func studyMethods() throws -> [BenchmarkMethod] {
        guard let studyModel else { return [] }
        let path = try modelPath(studyModel)
        var result: [BenchmarkMethod] = []
        for samplerName in studySamplers.split(separator: ",") {
            guard let kind = SR3Upscaler.SamplerKind(rawValue: samplerName.trimmingCharacters(in: .whitespaces)) else {
                throw CommandError("--study-samplers: unknown sampler '\(samplerName)' (ddpm, ddim, dpm-solver++)")
            }
            for stepText in studySteps.split(separator: ",") {
                guard let count = Int(stepText.trimmingCharacters(in: .whitespaces)), count >= 1 else {
                    throw CommandError("--study-steps: '\(stepText)' is not a positive integer")
                }
                var settings = self.settings
                settings.sampler = kind
                settings.steps = count
                settings.samples = 1
                result.append(BenchmarkMethod(name: "\(Self.displayName(studyModel)) \(kind.rawValue)-\(count)", kind: .model(path: path, sampling: settings),
                                              studyPoint: .init(sampler: kind, steps: count)))
            }
        }
        return result
    }

    /// The suite and, for degraded suites, each image's degradation parameters.
    func loadSuite() throws -> (BenchmarkSuite, [(name: String, parameters: DegradationParameters)]) {
        var root = suite, name = suite
        if !isFolder(suite) {
            guard !suite.contains("/") else { throw CommandError("--suite \(suite): no such folder") }
            root = data + "/" + suite
            guard isFolder(root) else { throw CommandError("--suite \(suite): \(root) does not exist (run `make data`, or give a folder)") }
        } else {
            name = URL(fileURLWithPath: suite).lastPathComponent
        }
        let highResolution = isFolder(root + "/HR") ? root + "/HR" : root
        if let degradation {
            guard let configuration = DegradationConfiguration.presets[degradation] else { throw DegradationError.unknownPreset(degradation) }
            return try BenchmarkSuite.degraded(name: "\(name) (\(degradation), seed \(seed))", highResolution: highResolution, scale: scale,
                                               degradation: (degradation, configuration, seed))
        }
        let lowResolution = root + "/LR_bicubic/X\(scale)"
        if isFolder(lowResolution) {
            return (try BenchmarkSuite.paired(name: name, highResolution: highResolution, lowResolution: lowResolution, scale: scale), [])
        }
        return try BenchmarkSuite.degraded(name: name, highResolution: highResolution, scale: scale, degradation: nil)
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let methods = try resolveMethods() + studyMethods()
            let (suite, parameters) = try loadSuite()
            let names = metricNames
            let niqe: NIQE? = names.contains("niqe")
                ? NIQE(parameters: try niqeParams.map { try NIQEParameters(contentsOfFile: $0) } ?? NIQEParameters.locate(), cropBorder: scale)
                : nil
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let cacheFolder = cache ?? output + "/cache"
            if !parameters.isEmpty {
                try FileManager.default.createDirectory(atPath: output + "/lr", withIntermediateDirectories: true)
                for item in suite.items { try item.lowResolution.write(toFile: output + "/lr/\(item.name).png") }
                try Degrade.writeLog(parameters.map { Degrade.LogLine(name: $0.name, parameters: $0.parameters) },
                                     to: output + "/degradation-params.jsonl")
            }
            let command = "diffsr " + CommandLine.arguments.dropFirst().joined(separator: " ")
            var bar: ProgressBar? = nil
            let progress: BenchmarkRunner.Progress = { method, done, total in
                if done == 0 { bar = ProgressBar(label: method, total: total) } else { bar?.advance() }
                return !Interrupt.requested
            }
            let main = methods.filter { $0.studyPoint == nil }, study = methods.filter { $0.studyPoint != nil }
            var outputs: [String: [[Image]]] = [:]
            var results = try BenchmarkRunner(suite: suite, methods: main, cacheFolder: cacheFolder, metrics: names, niqe: niqe)
                .run(command: command, cancelled: { Interrupt.requested }, progress: progress, keepOutputs: { method, produced in outputs[method.name] = produced.images })
            if !study.isEmpty {
                var subset = suite
                if let studyImages { subset.items = Array(suite.items.prefix(studyImages)) }
                let studyResults = try BenchmarkRunner(suite: subset, methods: study, cacheFolder: cacheFolder + "/study", metrics: names, niqe: niqe)
                    .run(command: command, cancelled: { Interrupt.requested }, progress: progress)
                results.methods += studyResults.methods
            }
            let chart = SamplerStudyChart.svg(points: SamplerStudyChart.points(of: results),
                                              metrics: names.filter { $0 != "ssim" && $0 != "consistency" }.map { ($0, BenchmarkResults.metricTitles[$0] ?? $0) })
            var entries: [HTMLReport.Entry] = []
            for (index, item) in suite.items.enumerated().prefix(reportImages ?? suite.items.count) {
                let crop = DetailCrop.choose(in: item.highResolution, size: reportCrop, scale: scale)
                var panels = [HTMLReport.Panel(label: "LR input", image: crop.applyToLowResolution(item.lowResolution, scale: scale), pixelated: true)]
                for method in main { panels.append(.init(label: method.name, image: crop.apply(to: outputs[method.name]![index][0]))) }
                panels.append(.init(label: "HR", image: crop.apply(to: item.highResolution)))
                entries.append(HTMLReport.Entry(name: item.name, crop: crop, panels: panels))
            }
            try AtomicFile.write(Array(results.markdown().utf8), to: output + "/results.md")
            try AtomicFile.write(Array(results.csv().utf8), to: output + "/results.csv")
            try AtomicFile.write(Array(try results.json().utf8), to: output + "/results.json")
            if let chart { try AtomicFile.write(Array(chart.utf8), to: output + "/sampler-study.svg") }
            try AtomicFile.write(Array(try HTMLReport(results: results, entries: entries, studyChart: chart).html().utf8), to: output + "/report.html")
            print(results.markdown())
            printError("wrote \(output)/results.md, results.csv, results.json, report.html" + (chart == nil ? "" : ", sampler-study.svg"))
        }
    }
}
