import Foundation
import SRDegradation
import SRImage
import SRTensor

/// The images of a benchmark: HR ground truth (mod-cropped to the scale) and the LR input each
/// method upscales.
public struct BenchmarkSuite: Sendable {
    public struct Item: Sendable {
        public var name: String
        public var highResolution: Image
        public var lowResolution: Image

        public init(name: String, highResolution: Image, lowResolution: Image) {
            self.name = name
            self.highResolution = highResolution
            self.lowResolution = lowResolution
        }
    }

    /// A display name ("test-photo", "test-photo, realesrgan seed 0").
    public var name: String
    public var scale: Int
    public var items: [Item]
    /// How the LR inputs were made, for the table's caption and the cache key.
    public var lowResolutionSource: String

    public init(name: String, scale: Int, items: [Item], lowResolutionSource: String) {
        self.name = name
        self.scale = scale
        self.items = items
        self.lowResolutionSource = lowResolutionSource
    }

    /// A 64-bit FNV-1a digest of every LR input's size and pixel values, in hex: the cache key
    /// carries it, so outputs made from other inputs under the same description (a degradation
    /// preset whose code changed, an LR folder whose files changed) are never reused.
    public var lowResolutionDigest: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt32) {
            for shift in stride(from: 0, to: 32, by: 8) {
                hash = (hash ^ UInt64((value >> UInt32(shift)) & 0xff)) &* 0x0000_0100_0000_01b3
            }
        }
        for item in items {
            let image = item.lowResolution
            mix(UInt32(image.width)); mix(UInt32(image.height)); mix(UInt32(image.channels))
            for value in image.pixels { mix(value.bitPattern) }
        }
        return String(hash, radix: 16)
    }

    /// HR images paired by stem with existing LR images (e.g. `data/test-photo/HR` and
    /// `LR_bicubic/X4`). Each HR is mod-cropped to the scale; an LR whose size is not HR / scale is
    /// an error naming both files.
    public static func paired(name: String, highResolution: String, lowResolution: String, scale: Int) throws -> BenchmarkSuite {
        let pairs = try ImageSet(path: highResolution, role: "HR").paired(with: ImageSet(path: lowResolution, role: "LR"),
                                                                          selfRole: "HR", otherRole: "LR")
        let items = try pairs.map { pair -> Item in
            let hr = try Image(contentsOfFile: pair.mine).modCropped(to: scale)
            let lr = try Image(contentsOfFile: pair.theirs)
            guard lr.width * scale == hr.width && lr.height * scale == hr.height else {
                throw BenchmarkError("\(pair.theirs) is \(lr.width)x\(lr.height), but \(pair.mine) mod-cropped to ×\(scale) is "
                                    + "\(hr.width)x\(hr.height) (expected \(hr.width / scale)x\(hr.height / scale))")
            }
            return Item(name: pair.name, highResolution: hr, lowResolution: lr)
        }
        return BenchmarkSuite(name: name, scale: scale, items: items, lowResolutionSource: "LR from \(lowResolution)")
    }

    /// HR images whose LR inputs are made here: MATLAB bicubic ×1/scale (the SR3 protocol), or a
    /// degradation model with seed + i for image i (the parameters of each image are returned so
    /// they can be logged and replayed with `diffsr degrade --replay`).
    public static func degraded(name: String, highResolution: String, scale: Int,
                                degradation: (preset: String, configuration: DegradationConfiguration, seed: UInt64)?)
        throws -> (suite: BenchmarkSuite, parameters: [(name: String, parameters: DegradationParameters)])
    {
        let set = try ImageSet(path: highResolution, role: "HR")
        var items: [Item] = [], logged: [(String, DegradationParameters)] = []
        let model = degradation.map { RealESRGANDegradation(configuration: $0.configuration, scale: scale) }
        for (index, stem) in set.files.keys.sorted().enumerated() {
            let hr = try Image(contentsOfFile: set.files[stem]!).modCropped(to: scale)
            let lr: Image
            if let model, let degradation {
                var generator = TorchGenerator(seed: degradation.seed &+ UInt64(index))
                let parameters = model.sampleParameters(using: &generator)
                lr = try RealESRGANDegradation.apply(hr, with: parameters).lowResolution.quantized()
                logged.append((stem, parameters))
                guard lr.width * scale == hr.width && lr.height * scale == hr.height else {
                    throw BenchmarkError("degradation of \(set.files[stem]!) gave \(lr.width)x\(lr.height), expected \(hr.width / scale)x\(hr.height / scale)")
                }
            } else {
                lr = hr.resized(width: hr.width / scale, height: hr.height / scale, method: .matlabBicubic).clipped().quantized()
            }
            items.append(Item(name: stem, highResolution: hr, lowResolution: lr))
        }
        let source = degradation.map { "LR by the \($0.preset) degradation, seed \($0.seed) + image index" }
            ?? "LR by MATLAB bicubic ×1/\(scale), 8-bit"
        return (BenchmarkSuite(name: name, scale: scale, items: items, lowResolutionSource: source), logged)
    }
}
