import Foundation
import Testing
import SRCheckpoint
import SRModels
import SRNN
import SRTensor
import _TestSupport


/// The SR3 U-Net against the reference implementation's own code (fixtures:
/// Tools/golden/make_sr3_fixtures.py, reference commit 01d27a7, torch 2.15).
@Suite("SR3 U-Net", .tags(.golden))
struct SR3UNetTests {
    struct Fixture: Decodable {
        struct Values: Decodable { let shape: [Int]; let values: [Float] }
        let config: SR3UNetConfiguration
        let keys: [String]
        let parameter_count: Int
        let input: Values
        let noise_level: [Float]
        let output: Values
    }

    static let fixture: Fixture = try! Fixtures.json("sr3/tiny.json")

    @Test("Parameter paths equal the reference state-dict keys")
    func keys() throws {
        var generator = TestGenerator(state: 1)
        let model = try SR3UNet(configuration: Self.fixture.config, using: &generator)
        let expected = Self.fixture.keys.filter { $0.hasPrefix("denoise_fn.") }.map { String($0.dropFirst("denoise_fn.".count)) }
        #expect(Set(model.namedParameters().map(\.path)) == Set(expected))
        #expect(model.parameterCount == Self.fixture.parameter_count)
    }

    @Test("Loads the reference's torch.save checkpoint and reproduces its output")
    func forward() throws {
        var generator = TestGenerator(state: 2)
        let model = try SR3UNet(configuration: Self.fixture.config, using: &generator)
        try SR3Checkpoint.loadPyTorch(contentsOfFile: Fixtures.path("sr3/tiny_gen.pth"), into: model)
        let input = Tensor(shape: Self.fixture.input.shape, values: Self.fixture.input.values)
        let output = withTrainingMode(false) {
            withoutGradients { model(input, noiseLevel: Tensor(shape: [2], values: Self.fixture.noise_level), using: &generator) }
        }
        let expected = Tensor(shape: Self.fixture.output.shape, values: Self.fixture.output.values)
        #expect(relativeError(output, expected) < 1e-4, "\(relativeError(output, expected))")
    }

    @Test("Reference configs (JSON with comments) parse; bad ones are refused")
    func configuration() throws {
        let text = """
        { "name": "x", // a comment
          "path": {"log": "http://not-a-comment"},
          "model": { /* block */ "unet": {"in_channel": 6, "out_channel": 3, "inner_channel": 64,
                     "channel_multiplier": [1, 2, 4, 8, 8], "attn_res": [16], "res_blocks": 2, "dropout": 0.2},
                     "diffusion": {"image_size": 128} } }
        """
        let c = try SR3UNetConfiguration(referenceConfigText: text)
        #expect(c == SR3UNetConfiguration())
        #expect(throws: SR3ConfigurationError.self) {
            try SR3UNetConfiguration(referenceConfigText: #"{"model": {"unet": {"in_channel": 6, "out_channel": 3, "inner_channel": 10, "channel_multiplier": [1], "res_blocks": 1}}}"#)
        }
        #expect(throws: SR3ConfigurationError.self) { try SR3UNetConfiguration(referenceConfigText: "{}") }
    }

    @Test("The reference 16→128 architecture has 97,807,491 parameters")
    func referenceSize() throws {
        var generator = TestGenerator(state: 3)
        let model = try SR3UNet(configuration: SR3UNetConfiguration(), using: &generator)
        #expect(model.parameterCount == 97_807_491)
        #expect(model.namedParameters().count == 362)
    }
}
