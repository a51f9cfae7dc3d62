import Foundation
import Testing
import SRCheckpoint
import SRModels
import SRNN
import SRTensor
import _TestSupport

@Suite("SR3+ condition augmentation")
struct AugmentationTests {
    struct ModelFixture: Decodable { let config: SR3UNetConfiguration }

    @Test("With a zero augmentation embedding, the SR3+ network equals the SR3 forward")
    func plumbing() throws {
        var config = try Fixtures.json("sr3/tiny.json", as: ModelFixture.self).config
        var generator = TestGenerator(state: 4)
        let sr3 = try SR3UNet(configuration: config, using: &generator)
        try SR3Checkpoint.loadPyTorch(contentsOfFile: Fixtures.path("sr3/tiny_gen.pth"), into: sr3)
        config.conditionAugmentation = true
        let plus = try SR3UNet(configuration: config, using: &generator)
        var weights = Dictionary(uniqueKeysWithValues: sr3.namedParameters().map { ($0.path, $0.parameter.value) })
        for (path, parameter) in plus.namedParameters() where path.hasPrefix("aug_level_mlp.") {
            weights[path] = path.hasPrefix("aug_level_mlp.3.") ? Tensor.zeros(parameter.shape) : parameter.value
        }
        try plus.update(parameters: weights)
        #expect(plus.namedParameters().count == sr3.namedParameters().count + 4)
        let input = testTensor([1, 16, 16, 6], seed: 3)
        let level = Tensor(shape: [1], values: [0.6])
        let a = withTrainingMode(false) { withoutGradients { sr3(input, noiseLevel: level, using: &generator) } }
        let b = withTrainingMode(false) {
            withoutGradients { plus(input, noiseLevel: level, augmentationLevel: Tensor(shape: [1], values: [1]), using: &generator) }
        }
        #expect(relativeError(a, b) < 1e-6)
        // The augmentation level reaches the output once the embedding is not zero.
        var changed = weights
        changed["aug_level_mlp.3.bias"] = Tensor.ones([8])
        try plus.update(parameters: changed)
        let c = withTrainingMode(false) {
            withoutGradients { plus(input, noiseLevel: level, augmentationLevel: Tensor(shape: [1], values: [0.5]), using: &generator) }
        }
        #expect(relativeError(a, c) > 1e-4)
    }
}
