import Foundation
import SRCheckpoint
import SRDiffusion
import SRPipelines
import SRImage
import SRMetrics
import SRSupport
import SRTensor

/// Runs each method on each image of a suite, caches the outputs, and scores them.
///
/// Cache: `<cache>/<method slug>/<image>.png` (`<image>_s<k>.png` for sample k > 0) and `run.json`
/// holding the cache key (suite, LR source and a digest of the LR pixels, scale, the method with
/// its model file's size and modification date, its sampling settings resolved against the
/// model's recorded defaults) and per-image seconds. A method whose key matches reuses the
/// images already there and produces only the missing ones, so an interrupted benchmark resumes;
/// a changed key clears that method's folder.
public struct BenchmarkRunner {
    public var suite: BenchmarkSuite
    public var methods: [BenchmarkMethod]
    public var cacheFolder: String
    /// Metric names to compute (psnr, ssim, consistency, niqe).
    public var metrics: [String]
    public var niqe: NIQE?
    /// StableSR latents shared between columns of one model that differ only in w or the color
    /// fix (a w sweep samples each image once); their s/image adds back the reused sampling time.
    /// Entries beyond its memory budget go to `<cacheFolder>/.latent-memo` for the run's duration.
    public let latentMemo: LatentMemo

    /// Progress: method name, images done (0 when a method starts), images total; return false to cancel.
    public typealias Progress = (_ method: String, _ done: Int, _ total: Int) -> Bool

    public init(suite: BenchmarkSuite, methods: [BenchmarkMethod], cacheFolder: String, metrics: [String], niqe: NIQE?) {
        self.suite = suite
        self.methods = methods
        self.cacheFolder = cacheFolder
        self.metrics = metrics
        self.niqe = niqe
        latentMemo = LatentMemo(spillFolder: cacheFolder + "/.latent-memo")
    }

    public struct Cancelled: Error, CustomStringConvertible {
        public var description: String { "benchmark interrupted (finished outputs are cached; run again to resume)" }
    }

    struct CacheRecord: Codable {
        var key: String
        var seconds: [String: Double]   // output file name → seconds
        var peakMemoryMiB: Double?
    }

    /// The outputs of one method: per image, its samples, plus timing.
    public struct Outputs {
        public var images: [[Image]]
        public var seconds: [Double?]
        public var peakMemoryMiB: Double?
    }

    /// Produces (or loads from the cache) the outputs of `method`.
    public func outputs(of method: BenchmarkMethod, cancelled: @escaping () -> Bool = { false }, progress: Progress? = nil) throws -> Outputs {
        let items = suite.items
        if case .external(let folder) = method.kind {
            let set = try ImageSet(path: folder, role: "\(method.name) output")
            var images: [[Image]] = []
            for item in items {
                guard let path = set.files[item.name] else { throw BenchmarkError("\(method.name): no output for \(item.name) in \(folder)") }
                let image = try Image(contentsOfFile: path)
                guard image.width == item.highResolution.width, image.height == item.highResolution.height else {
                    throw BenchmarkError("\(path) is \(image.width)x\(image.height), expected \(item.highResolution.width)x\(item.highResolution.height)")
                }
                images.append([image])
            }
            let times = Self.externalTimings(in: folder)
            return Outputs(images: images, seconds: items.map { times[$0.name] }, peakMemoryMiB: nil)
        }
        let folder = cacheFolder + "/" + method.slug
        let key = try cacheKey(for: method)
        var record = CacheRecord(key: key, seconds: [:], peakMemoryMiB: nil)
        if let data = FileManager.default.contents(atPath: folder + "/run.json"),
           let stored = try? JSONDecoder().decode(CacheRecord.self, from: data), stored.key == key {
            record = stored
        } else if FileManager.default.fileExists(atPath: folder) {
            try FileManager.default.removeItem(atPath: folder)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        var upscaler: (any Upscaler)? = nil
        var images: [[Image]] = [], seconds: [Double?] = []
        if let progress, !progress(method.name, 0, items.count) { throw Cancelled() }
        let samples = method.samplesPerImage
        var measuredPeak = record.peakMemoryMiB
        for (index, item) in items.enumerated() {
            var perImage: [Image] = [], times: [Double] = []
            for sample in 0..<samples {
                let file = item.name + (sample == 0 ? "" : "_s\(sample)") + ".png"
                let path = folder + "/" + file
                if let time = record.seconds[file], FileManager.default.fileExists(atPath: path) {
                    perImage.append(try Image(contentsOfFile: path))
                    times.append(time)
                    continue
                }
                if cancelled() { throw Cancelled() }
                PeakMemory.reset()
                _ = latentMemo.takeReusedSeconds()
                let start = DispatchTime.now().uptimeNanoseconds
                let output: Image
                switch method.kind {
                case .resize(let resize):
                    output = item.lowResolution.resized(width: item.highResolution.width, height: item.highResolution.height,
                                                        method: resize).clipped()
                case .model(let path, let sampling):
                    if upscaler == nil { upscaler = try Self.makeUpscaler(path: path, sampling: sampling, scale: suite.scale, memo: latentMemo) }
                    output = try upscaler!.upscale([item.lowResolution], seeds: [sampling.seed(image: index, sample: sample)]) { _, _ in
                        !cancelled()
                    }[0]
                case .external:
                    fatalError("handled above")
                }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 + latentMemo.takeReusedSeconds()
                if let peak = PeakMemory.current() { measuredPeak = max(measuredPeak ?? 0, peak) }
                guard output.width == item.highResolution.width, output.height == item.highResolution.height else {
                    throw BenchmarkError("\(method.name) made \(output.width)x\(output.height) for \(item.name), expected "
                                        + "\(item.highResolution.width)x\(item.highResolution.height) (check the model's scale)")
                }
                let stored = output.quantized()
                try stored.write(toFile: path)
                record.seconds[file] = elapsed
                record.peakMemoryMiB = measuredPeak
                try AtomicFile.write(Array(try JSONEncoder().encode(record)), to: folder + "/run.json")
                perImage.append(stored)
                times.append(elapsed)
            }
            images.append(perImage)
            seconds.append(times.reduce(0, +) / Double(times.count))
            if let progress, !progress(method.name, index + 1, items.count) { throw Cancelled() }
        }
        return Outputs(images: images, seconds: seconds, peakMemoryMiB: measuredPeak)
    }

    /// Seconds per image an external tool recorded in `<folder>/timings.jsonl` (lines with
    /// `"image"` and `"seconds"`, as Tools/reference/ncnn_sr.py writes them); empty when absent.
    static func externalTimings(in folder: String) -> [String: Double] {
        struct Line: Decodable { var image: String; var seconds: Double }
        guard let text = try? String(contentsOfFile: folder + "/timings.jsonl", encoding: .utf8) else { return [:] }
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            if let entry = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) { result[entry.image] = entry.seconds }
        }
        return result
    }

    /// The upscaler of a model file, whatever its family, sampled as `sampling` says.
    static func makeUpscaler(path: String, sampling: SamplingSettings, scale: Int, memo: LatentMemo? = nil) throws -> any Upscaler {
        switch try LoadedModel.open(path) {
        case .sr3(let model):
            guard model.description.scale == scale else {
                throw BenchmarkError("\(path) is a ×\(model.description.scale) model, the benchmark is ×\(scale)")
            }
            do { return try SR3Upscaler(model: model, settings: sampling) } catch let error as BenchmarkError {
                throw BenchmarkError("\(path): \(error)")
            }
        case .stablesr(let model):
            var upscaler = try StableSRUpscaler(model: model, sampling: sampling, scale: scale, path: path)
            if let memo { upscaler.latentMemo = (memo, URL(fileURLWithPath: path).standardizedFileURL.path) }
            return upscaler
        }
    }

    /// The cache key: everything that determines the outputs.
    func cacheKey(for method: BenchmarkMethod) throws -> String {
        var parts = ["suite=\(suite.name)", "lr=\(suite.lowResolutionSource)", "lr-digest=\(suite.lowResolutionDigest)",
                     "scale=\(suite.scale)", "images=\(suite.items.map(\.name).joined(separator: ","))"]
        switch method.kind {
        case .resize(let resize): parts.append("resize=\(resize.rawValue)")
        case .model(let path, let sampling):
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
            let date = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            parts.append("model=\(URL(fileURLWithPath: path).standardizedFileURL.path) size=\(size) modified=\(date)")
            // Resolved against the model's recorded defaults: a flag equal to a default hits the same outputs.
            let resolved = Self.description(ofModelAt: path).map { sampling.resolved(for: $0) } ?? sampling
            parts.append("sampling=" + String(decoding: try encoder.encode(resolved), as: UTF8.self))
        case .external(let folder): parts.append("external=\(folder)")
        }
        return parts.joined(separator: "\n")
    }

    /// Scores one output against its item.
    public func score(_ output: Image, item: BenchmarkSuite.Item) throws -> Scores {
        var scores = Scores()
        let border = suite.scale
        if metrics.contains("psnr") { scores.psnr = try PSNR(channel: .y, cropBorder: border)(output, reference: item.highResolution) }
        if metrics.contains("ssim") { scores.ssim = try SSIM(channel: .y, cropBorder: border)(output, reference: item.highResolution) }
        if metrics.contains("consistency") { scores.consistency = try Consistency(scale: suite.scale)(output, lowResolution: item.lowResolution) }
        if metrics.contains("niqe"), let niqe { scores.niqe = try niqe(output) }
        return scores
    }

    /// Runs every method and scores every output. `keepOutputs` receives each method's outputs
    /// (for the report) before they are released.
    public func run(command: String, cancelled: @escaping () -> Bool = { false }, progress: Progress? = nil,
                    keepOutputs: (BenchmarkMethod, Outputs) -> Void = { _, _ in }) throws -> BenchmarkResults {
        var results: [BenchmarkResults.MethodResult] = []
        for method in methods {
            let outputs = try self.outputs(of: method, cancelled: cancelled, progress: progress)
            var perImage: [BenchmarkResults.ImageResult] = []
            for (index, item) in suite.items.enumerated() {
                let scores = try outputs.images[index].map { try score($0, item: item) }
                perImage.append(.init(image: item.name, scores: Scores.mean(scores), seconds: outputs.seconds[index]))
            }
            let times = outputs.seconds.compactMap { $0 }
            results.append(.init(name: method.name, detail: Self.detail(of: method, scale: suite.scale), samples: method.samplesPerImage,
                                 secondsPerImage: times.isEmpty ? nil : times.reduce(0, +) / Double(times.count),
                                 peakMemoryMiB: outputs.peakMemoryMiB, studyPoint: method.studyPoint,
                                 mean: Scores.mean(perImage.map(\.scores)), images: perImage))
            keepOutputs(method, outputs)
        }
        let threads = Parallelism.threadCount
        return BenchmarkResults(suite: suite.name, scale: suite.scale, lowResolutionSource: suite.lowResolutionSource,
                                metrics: metrics, images: suite.items.map(\.name), methods: results, command: command,
                                machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, threads: \(threads)")
    }

    /// The description embedded in a safetensors model file (nil when unreadable).
    static func description(ofModelAt path: String) -> SR3ModelDescription? {
        try? SR3ModelDescription(json: SafeTensorsFile(contentsOfFile: path).metadata[SR3ModelDescription.metadataKey] ?? "")
    }

    static func detail(of method: BenchmarkMethod, scale: Int) -> String {
        switch method.kind {
        case .resize(let resize): return resize.rawValue
        case .model(let fullPath, let sampling):
            let here = FileManager.default.currentDirectoryPath + "/"
            let path = fullPath.hasPrefix(here) ? String(fullPath.dropFirst(here.count)) : fullPath
            if let recorded = StableSRModel.recordedDefaults(ofFile: fullPath) {
                let settings = try? StableSRSettings(recorded: recorded, sampling: sampling, scale: scale, path: path)
                return "\(path) (StableSR): \(settings?.summary ?? sampling.summary)"
            }
            guard let description = description(ofModelAt: fullPath) else { return "\(path): \(sampling.summary)" }
            return description.kind == .regression ? "\(path) (regression, one forward pass)"
                : "\(path): \(sampling.resolved(for: description).summary)"
        case .external(let folder): return "outputs read from \(folder)"
        }
    }
}
