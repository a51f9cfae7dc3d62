import Foundation
import Testing
import SRImage
import SRTraining
import _TestSupport

@Suite("Offline data sets")
struct DatasetTests {
    static var manifestPath: String {
        URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Datasets/manifest.tsv").path
    }

    @Test("The committed manifest holds the splits of shared/data.md")
    func manifestSplits() throws {
        let manifest = try DatasetManifest(contentsOfFile: Self.manifestPath)
        var counts: [String: Int] = [:]
        for entry in manifest.entries { counts[entry.split, default: 0] += 1 }
        #expect(counts == ["train": 35, "train-extra": 5, "val": 5, "test-photo": 10, "test-classic": 21])
        #expect(manifest.entries.filter { $0.split == "test-photo" }.allSatisfy { $0.crop != nil })
        let keys = manifest.entries.map { $0.outputSplit + "/" + $0.name }
        #expect(Set(keys).count == keys.count)
        #expect(manifest.entries.allSatisfy { $0.sha256Prefix.count == 16 })
    }

    @Test("Malformed manifest lines are reported with their line number")
    func malformed() {
        #expect(throws: DatasetError.self) { try DatasetManifest(text: "# header\ntrain\tx\tpkg\t/p\t10\n", name: "m") }
        do {
            _ = try DatasetManifest(text: "# h\nbogus\tx\tpkg\t/p\t10\t10\t\t\tabc\n", name: "m")
            Issue.record("accepted an unknown split")
        } catch {
            #expect("\(error)".contains("m:2"))
        }
    }

    @Test("HR and LR derivation: ÷2 Lanczos, 512 crop, mod-crop, MATLAB bicubic LR")
    func derivation() throws {
        let photo = Image(width: 1100, height: 1030, channels: 3, repeating: 0.5)
        let test = DatasetManifest.Entry(split: "test-photo", name: "t", package: "p", path: "/t.jpg", width: 1100,
                                         height: 1030, crop: (10, 3), sha256Prefix: "0000000000000000")
        let hr = try DatasetPreparation.highResolution(from: photo, entry: test)
        #expect(hr.width == 512 && hr.height == 512)
        var val = test
        val.split = "val"; val.crop = nil
        let half = try DatasetPreparation.highResolution(from: photo, entry: val)
        #expect(half.width == 550 && half.height == 515)
        let lr3 = DatasetPreparation.lowResolution(from: half, scale: 3)
        #expect(lr3.width == 183 && lr3.height == 171)   // from the 549x513 mod-crop
        var classic = test
        classic.split = "test-classic"; classic.crop = nil
        let native = try DatasetPreparation.highResolution(from: photo, entry: classic)
        #expect(native.width == 1100 && native.height == 1028)
        var bad = test
        bad.crop = (100, 100)
        #expect(throws: DatasetError.self) { try DatasetPreparation.highResolution(from: photo, entry: bad) }
    }
}
