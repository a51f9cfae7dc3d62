import Foundation
import Testing
@testable import SRPipelines
import SRTensor
import _TestSupport

@Suite("Latent memo")
struct LatentMemoTests {
    @Test("Entries beyond the memory budget go to files and come back equal; a different input misses; the files go with the memo")
    func spill() throws {
        let dir = try makeTemporaryDirectory("latent-memo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/spill"
        var generator = TorchGenerator(seed: 3)
        let inputs = (0..<3).map { _ in Tensor.randomNormal([1, 8, 8, 3], using: &generator) }
        let latents = (0..<3).map { _ in Tensor.randomNormal([1, 1, 1, 4], using: &generator) }
        let features = (0..<3).map { _ in [Tensor.randomNormal([1, 4, 4, 2], using: &generator), Tensor.randomNormal([1, 2, 2, 3], using: &generator)] }
        let settings = StableSRSettings()
        // Room for one entry in memory (192 + 4 + 32 + 12 floats = 960 bytes).
        var memo: LatentMemo? = LatentMemo(byteBudget: 1000, spillFolder: folder)
        let keys = (0..<3).map { LatentMemo.key(model: "m", settings: settings, seed: UInt64($0), input: inputs[$0]) }
        for i in 0..<3 { memo!.store(keys[i], input: inputs[i], latent: latents[i], features: features[i], seconds: Double(i + 1)) }
        #expect(memo!.count == 3 && memo!.spilledCount == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).count == 2)
        for i in [2, 0, 1] {   // any order, as the columns of a benchmark read them
            let hit = try #require(memo!.lookup(keys[i], input: inputs[i]))
            #expect(hit.latent.shape == latents[i].shape && hit.latent.scalars == latents[i].scalars)
            #expect(hit.features.map(\.shape) == features[i].map(\.shape))
            #expect(zip(hit.features, features[i]).allSatisfy { $0.scalars == $1.scalars })
        }
        #expect(memo!.takeReusedSeconds() == 6)
        #expect(memo!.lookup(keys[2], input: inputs[1]) == nil, "another input under the same key misses")
        memo = nil
        #expect(!FileManager.default.fileExists(atPath: folder))
    }
}
