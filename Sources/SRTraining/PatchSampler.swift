import Foundation
import SRDegradation
import SRImage
import SRSupport
import SRTensor

/// Training pairs drawn from a folder of HR images: random HR crops with flips and 90° rotations,
/// flat crops rejected, the LR made on the fly and upsampled into the condition. Batch `k` depends
/// only on (seed, k), so runs are reproducible and resume exactly, whatever thread prepares them.
public final class PatchSampler: @unchecked Sendable {
    public let images: [Image]
    public let cropSize: Int
    public let scale: Int
    public let flatThreshold: Float
    public let degradation: ResizeMethod
    public let conditioning: ResizeMethod
    /// Blind SR: degrade each crop with this model instead of the plain resize.
    public var degradationModel: RealESRGANDegradation?
    private let cumulativeAreas: [Int]

    /// A batch: HR `[N, c, c, 3]` and condition `[N, c, c, 3]`, both in [−1, 1].
    public struct Batch: @unchecked Sendable {
        public var highResolution: Tensor
        public var condition: Tensor
    }

    public init(folder: String, cropSize: Int, scale: Int, flatThreshold: Float, degradation: ResizeMethod,
                conditioning: ResizeMethod) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter(ImageFormat.isImagePath).sorted() ?? []
        guard !names.isEmpty else { throw TrainingError.data("\(folder): no PNG or JPEG images (run `make data`?)") }
        var images: [Image] = []
        for name in names {
            let image = try Image(contentsOfFile: folder + "/" + name)
            if image.width >= cropSize && image.height >= cropSize { images.append(image) }
        }
        guard !images.isEmpty else { throw TrainingError.data("\(folder): no image is at least \(cropSize)x\(cropSize)") }
        self.images = images
        self.cropSize = cropSize
        self.scale = scale
        self.flatThreshold = flatThreshold
        self.degradation = degradation
        self.conditioning = conditioning
        var total = 0
        cumulativeAreas = images.map { total += ($0.width - cropSize + 1) * ($0.height - cropSize + 1); return total }
    }

    /// The condition for an HR crop: LR by `degradation` ×1/s (8-bit), upsampled back by `conditioning`.
    public func condition(for crop: Image) -> Image {
        let low = crop.resized(scale: 1 / Double(scale), method: degradation).quantized()
        return low.resized(width: crop.width, height: crop.height, method: conditioning)
    }

    /// One random crop (area-weighted over the images), flipped/rotated.
    func crop(using generator: inout TorchGenerator) -> Image {
        var best: Image? = nil
        for _ in 0..<20 {
            let pick = Int(generator.next() % UInt64(cumulativeAreas.last!))
            let index = cumulativeAreas.firstIndex { $0 > pick }!
            let image = images[index]
            let x = Int(generator.next() % UInt64(image.width - cropSize + 1))
            let y = Int(generator.next() % UInt64(image.height - cropSize + 1))
            var crop = image.cropped(x: x, y: y, width: cropSize, height: cropSize)
            let transform = Int(generator.next() % 8)
            if transform != 0 { crop = EXIFOrientation(rawValue: transform + 1)!.applied(to: crop) }
            best = crop
            if PatchSampler.lumaDeviation(crop) >= flatThreshold { break }
        }
        return best!
    }

    static func lumaDeviation(_ image: Image) -> Float {
        let y = ColorSpace.luma(fromRGB: image).pixels
        let mean = y.reduce(0, +) / Float(y.count)
        return (y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(y.count)).squareRoot() * 255 / 219
    }

    /// Real-ESRGAN's training-pair pool (a queue of 180 pairs shuffled across batches), made
    /// stateless so runs stay reproducible and resume exactly: pairs are numbered, pair n depends
    /// only on (seed, n), and the pairs of each block of `poolSize` consecutive numbers are dealt to
    /// that block's batches in a seeded random order. Each pair is still used once; a batch mixes
    /// pairs from across its block instead of holding consecutive ones. 0: no pool.
    /// Requires `poolSize` to be a multiple of the batch size.
    public var poolSize = 0
    /// With a degradation model: the probability that a pair is made by the plain `degradation`
    /// resize of the unsharpened crop instead (a blind model must also serve clean inputs; the
    /// reference's `no_degradation_prob` plays this part). 0: every pair is degraded.
    public var cleanProbability = 0.0
    private var pool: (block: Int, seed: UInt64, pairs: [Int: Pair])? = nil
    private let poolLock = NSLock()

    /// One training pair: HR and condition pixels, HWC in [−1, 1].
    struct Pair {
        var highResolution: [Float]
        var condition: [Float]
    }

    /// Training pair number `number` of a run seeded with `seed`.
    func pair(_ number: Int, seed: UInt64) -> Pair {
        var generator = TorchGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(number))
        var crop = self.crop(using: &generator)
        let conditionImage: Image
        // A share of clean pairs (the plain `degradation` resize), drawn only when configured.
        let clean = cleanProbability > 0 && generator.uniformDouble() < cleanProbability
        if !clean, let degradationModel,
           let degraded = try? RealESRGANDegradation.apply(crop, with: degradationModel.sampleParameters(using: &generator)) {
            crop = degraded.target
            conditionImage = degraded.lowResolution.resized(width: cropSize, height: cropSize, method: conditioning)
        } else {
            conditionImage = self.condition(for: crop)
        }
        return Pair(highResolution: crop.pixels.map { $0 * 2 - 1 }, condition: conditionImage.pixels.map { $0 * 2 - 1 })
    }

    /// The pair numbers of batch `index`: consecutive without a pool, else this batch's share of
    /// its block's seeded permutation.
    public func pairNumbers(ofBatch index: Int, size: Int, seed: UInt64) -> [Int] {
        let first = index * size
        guard poolSize > 0 else { return Array(first..<(first + size)) }
        precondition(poolSize % size == 0, "the pool size \(poolSize) must be a multiple of the batch size \(size)")
        let block = first / poolSize
        var order = Array(0..<poolSize)
        var generator = TorchGenerator(seed: (seed ^ 0x5851_F42D_4C95_7F2D) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(block))
        for i in stride(from: poolSize - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        let offset = first % poolSize
        return order[offset..<(offset + size)].map { block * poolSize + $0 }
    }

    /// Batch number `index` of a run seeded with `seed`.
    public func batch(_ index: Int, size: Int, seed: UInt64) -> Batch {
        let numbers = pairNumbers(ofBatch: index, size: size, seed: seed)
        var pairs: [Pair]
        if poolSize > 0 {
            // The whole block is made once, when its first batch is asked for.
            poolLock.lock()
            let block = index * size / poolSize
            if pool?.block != block || pool?.seed != seed {
                let start = block * poolSize
                pool = (block, seed, Dictionary(uniqueKeysWithValues: (start..<(start + poolSize)).map { ($0, pair($0, seed: seed)) }))
            }
            pairs = numbers.map { pool!.pairs[$0]! }
            poolLock.unlock()
        } else {
            pairs = numbers.map { pair($0, seed: seed) }
        }
        let shape = [size, cropSize, cropSize, 3]
        return Batch(highResolution: Tensor(shape: shape, values: pairs.flatMap(\.highResolution)),
                     condition: Tensor(shape: shape, values: pairs.flatMap(\.condition)))
    }
}

/// Prepares batches on a background thread, a few steps ahead of the trainer, on that thread alone
/// (`ComputeThreads.serially`), so the trainer keeps the OpenMP threads.
public final class BatchPrefetcher: @unchecked Sendable {
    private let sampler: PatchSampler
    private let size: Int
    private let seed: UInt64
    private var ready: [Int: PatchSampler.Batch] = [:]
    private let condition = NSCondition()
    private var next: Int
    private var stopped = false
    private let depth: Int

    public init(sampler: PatchSampler, batchSize: Int, seed: UInt64, startingAt first: Int) {
        self.sampler = sampler
        size = batchSize
        self.seed = seed
        next = first
        depth = max(3, sampler.poolSize / max(batchSize, 1) + 1)
        let thread = Thread { [weak self] in self?.produce() }
        thread.name = "batch-prefetch"
        thread.start()
    }

    private func produce() {
        while true {
            condition.lock()
            while !stopped && ready.count >= depth { condition.wait() }
            if stopped { condition.unlock(); return }
            let index = next
            next += 1
            condition.unlock()
            let batch = ComputeThreads.serially { sampler.batch(index, size: size, seed: seed) }
            condition.lock()
            ready[index] = batch
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Batch `index` (waits until it is ready).
    public func batch(_ index: Int) -> PatchSampler.Batch {
        condition.lock()
        defer { condition.unlock() }
        while ready[index] == nil { condition.wait() }
        let batch = ready.removeValue(forKey: index)!
        condition.broadcast()
        return batch
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
