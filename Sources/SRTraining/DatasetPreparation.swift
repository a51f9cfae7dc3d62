import Foundation
import SRImage

/// Builds the offline sets of `shared/data.md` from the extracted package files.
///
/// Per photo: decode to 8-bit RGB (alpha dropped, EXIF orientation applied); HR = the photo
/// downscaled ×½ with `pil-lanczos` (Pillow `LANCZOS`, output `floor(size/2)`), except `train-extra`
/// (native size) and `test-classic` (native size cropped at the bottom/right to a multiple of 4);
/// `test-photo` keeps the fixed 512×512 crop. LR for each scale s = `matlab-bicubic` ×1/s of the HR
/// mod-cropped to a multiple of s, rounded to 8 bits. Layout:
/// `OUT/<split>/HR/<name>.png` and `OUT/<split>/LR_bicubic/X<s>/<name>.png`.
/// Files that already exist are kept (the preparation is deterministic), so a rerun is cheap.
public struct DatasetPreparation {
    public var manifest: DatasetManifest
    /// Folder the packages were extracted into (their `/usr/...` paths live below it).
    public var sourceRoot: String
    public var outputRoot: String
    public var scales: [Int]

    public init(manifest: DatasetManifest, sourceRoot: String, outputRoot: String, scales: [Int] = [2, 3, 4]) {
        self.manifest = manifest
        self.sourceRoot = sourceRoot
        self.outputRoot = outputRoot
        self.scales = scales
    }

    /// The output paths of one entry: HR first, then one LR per scale.
    public func outputPaths(for entry: DatasetManifest.Entry) -> [String] {
        let base = outputRoot + "/" + entry.outputSplit
        return [base + "/HR/\(entry.name).png"] + scales.map { base + "/LR_bicubic/X\($0)/\(entry.name).png" }
    }

    /// The HR image of an entry, from its decoded source photo.
    public static func highResolution(from photo: Image, entry: DatasetManifest.Entry) throws -> Image {
        let source = photo.quantized()
        switch entry.split {
        case "train-extra":
            return source
        case "test-classic":
            return source.modCropped(to: 4)
        default:
            let half = source.resized(width: source.width / 2, height: source.height / 2, method: .pilLanczos)
            guard let crop = entry.crop else { return half }
            guard crop.x + 512 <= half.width, crop.y + 512 <= half.height else {
                throw DatasetError.source("\(entry.path): the 512x512 crop at \(crop) leaves the \(half.width)x\(half.height) HR image")
            }
            return half.cropped(x: crop.x, y: crop.y, width: 512, height: 512)
        }
    }

    /// The bicubic LR of an HR image at `scale` (MATLAB imresize of the mod-cropped HR, 8-bit).
    public static func lowResolution(from highResolution: Image, scale: Int) -> Image {
        highResolution.modCropped(to: scale).resized(scale: 1 / Double(scale), method: .matlabBicubic).quantized()
    }

    /// Prepares one entry, skipping it when all its outputs exist. Returns whether work was done.
    @discardableResult
    public func prepare(_ entry: DatasetManifest.Entry) throws -> Bool {
        let paths = outputPaths(for: entry)
        if paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) { return false }
        let photo = try Image(contentsOfFile: sourceRoot + entry.path)
        guard photo.width == entry.width, photo.height == entry.height else {
            throw DatasetError.source("\(entry.path): decoded \(photo.width)x\(photo.height), the manifest says \(entry.width)x\(entry.height)")
        }
        let hr = try DatasetPreparation.highResolution(from: photo, entry: entry)
        for path in paths {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        try hr.write(toFile: paths[0])
        for (scale, path) in zip(scales, paths.dropFirst()) {
            try DatasetPreparation.lowResolution(from: hr, scale: scale).write(toFile: path)
        }
        return true
    }
}
