import Foundation
import SRTensor

/// Sampled latents kept for upscalers of one model that differ only in how they decode (the CFW
/// weight w, the color fix): a benchmark's w sweep (`stablesr@w=0,…,stablesr@w=1`) samples each image
/// once and decodes it at every w — the same outputs as sampling each column on its own, since the
/// latent does not depend on w. An entry is keyed by the model (its file), the seed and the settings
/// the latent depends on, and holds the input it was sampled from, compared in full on a hit.
/// Entries are evicted oldest first beyond `byteBudget`.
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

    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var bytes = 0
    private var reused = 0.0
    private let lock = NSLock()
    public let byteBudget: Int

    public init(byteBudget: Int = 512 << 20) {
        self.byteBudget = byteBudget
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
        guard let entry = entries[key], entry.input == input.scalars else { return nil }
        reused += entry.seconds
        return (entry.latent, entry.features)
    }

    func store(_ key: Key, input: Tensor, latent: Tensor, features: [Tensor], seconds: Double) {
        let entry = Entry(input: input.scalars, latent: latent, features: features, seconds: seconds)
        guard entry.bytes <= byteBudget else { return }
        lock.lock()
        defer { lock.unlock() }
        if let old = entries[key] { bytes -= old.bytes; order.removeAll { $0 == key } }
        entries[key] = entry
        order.append(key)
        bytes += entry.bytes
        while bytes > byteBudget, let oldest = order.first {
            order.removeFirst()
            bytes -= entries.removeValue(forKey: oldest)?.bytes ?? 0
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

    /// Entries held.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return entries.count
    }
}
