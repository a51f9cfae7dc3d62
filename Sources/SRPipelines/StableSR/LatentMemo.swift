import Foundation
import SRTensor

/// Sampled latents kept for upscalers of one model that differ only in how they decode (the CFW
/// weight w, the color fix): a benchmark's w sweep (`stablesr@w=0,…,stablesr@w=1`) samples each image
/// once and decodes it at every w — the same outputs as sampling each column on its own, since the
/// latent does not depend on w. An entry is keyed by the model (its file), the seed and the settings
/// the latent depends on, and holds the input it was sampled from, compared in full on a hit.
///
/// Entries are kept in memory up to `byteBudget`; beyond it they go to files in `spillFolder`
/// (when given; else they are not kept). A benchmark runs column by column, so a w sweep over a
/// set reads every image's entry once per column, oldest first: evicting the oldest (as this did
/// before) missed every entry of a set larger than the budget, and each column sampled again.
///
/// Time: a hit costs only the decoding; `takeReusedSeconds()` returns the sampling seconds of the
/// hits since the last call, so that a caller can report what the output costs on its own.
public final class LatentMemo: @unchecked Sendable {
    struct Key: Hashable {
        var model: String
        var seed: UInt64
        var sampling: String
        var shape: [Int]
    }

    struct Entry {
        var input: [Float]
        var latent: Tensor
        var features: [Tensor]
        var seconds: Double
        var bytes: Int { 4 * (input.count + latent.count + features.reduce(0) { $0 + $1.count }) }
    }

    /// An entry in a file: the input, the latent and the features, as raw floats one after another.
    struct Spilled {
        var path: String
        var inputCount: Int
        var latentShape: [Int]
        var featureShapes: [[Int]]
        var seconds: Double
    }

    private var entries: [Key: Entry] = [:]
    private var spilled: [Key: Spilled] = [:]
    private var bytes = 0
    private var reused = 0.0
    private let lock = NSLock()
    public let byteBudget: Int
    public let spillFolder: String?

    /// - Parameters:
    ///   - byteBudget: bytes of entries kept in memory.
    ///   - spillFolder: where entries beyond the budget go (created when needed, removed with the memo).
    public init(byteBudget: Int = 512 << 20, spillFolder: String? = nil) {
        self.byteBudget = byteBudget
        self.spillFolder = spillFolder
    }

    deinit {
        for entry in spilled.values { try? FileManager.default.removeItem(atPath: entry.path) }
        if let spillFolder, (try? FileManager.default.contentsOfDirectory(atPath: spillFolder))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: spillFolder)
        }
    }

    /// The key of `input` sampled by an upscaler of `model` with `settings` from `seed`.
    static func key(model: String, settings: StableSRSettings, seed: UInt64, input: Tensor) -> Key {
        let s = settings
        return Key(model: model, seed: seed,
                   sampling: "\(s.sampler.rawValue) \(s.steps) \(s.eta) \(s.start.rawValue) \(s.latentTile) \(s.latentTileOverlap)",
                   shape: input.shape)
    }

    func lookup(_ key: Key, input: Tensor) -> (latent: Tensor, features: [Tensor])? {
        lock.lock()
        defer { lock.unlock() }
        if let entry = entries[key] {
            guard entry.input == input.scalars else { return nil }
            reused += entry.seconds
            return (entry.latent, entry.features)
        }
        guard let entry = spilled[key], let data = FileManager.default.contents(atPath: entry.path) else { return nil }
        var floats = [Float](repeating: 0, count: data.count / 4)
        _ = floats.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        let shapes = [entry.latentShape] + entry.featureShapes
        guard floats.count == entry.inputCount + shapes.reduce(0, { $0 + $1.reduce(1, *) }),
              floats[0..<entry.inputCount].elementsEqual(input.scalars) else { return nil }
        var offset = entry.inputCount
        let tensors = shapes.map { shape -> Tensor in
            let count = shape.reduce(1, *)
            defer { offset += count }
            return Tensor(shape: shape, values: Array(floats[offset..<(offset + count)]))
        }
        reused += entry.seconds
        return (tensors[0], Array(tensors.dropFirst()))
    }

    func store(_ key: Key, input: Tensor, latent: Tensor, features: [Tensor], seconds: Double) {
        let entry = Entry(input: input.scalars, latent: latent, features: features, seconds: seconds)
        lock.lock()
        defer { lock.unlock() }
        if let old = entries.removeValue(forKey: key) { bytes -= old.bytes }
        if let old = spilled.removeValue(forKey: key) { try? FileManager.default.removeItem(atPath: old.path) }
        if bytes + entry.bytes <= byteBudget {
            entries[key] = entry
            bytes += entry.bytes
            return
        }
        guard let spillFolder else { return }
        let path = spillFolder + "/latent-\(spilled.count)-\(UUID().uuidString).bin"
        var floats = entry.input
        floats += latent.scalars
        for feature in features { floats += feature.scalars }
        do {
            try FileManager.default.createDirectory(atPath: spillFolder, withIntermediateDirectories: true)
            try floats.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
            spilled[key] = Spilled(path: path, inputCount: entry.input.count, latentShape: latent.shape,
                                   featureShapes: features.map(\.shape), seconds: seconds)
        } catch {
            try? FileManager.default.removeItem(atPath: path)   // not kept: the next column samples again
        }
    }

    /// The sampling seconds the hits since the last call saved, then zero.
    public func takeReusedSeconds() -> Double {
        lock.lock()
        defer { lock.unlock() }
        let value = reused
        reused = 0
        return value
    }

    /// Entries held (in memory and in files).
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count + spilled.count
    }

    /// Entries held in files.
    public var spilledCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return spilled.count
    }
}
