import Foundation
import Testing
import SRCheckpoint
import SRImage
@testable import SRModels
import SRNN
import SRTensor
import _TestSupport

/// TAEF2 (the committed Models/taef2/*.pth) against its own PyTorch module (fixture:
/// Tools/golden/make_taef2_fixtures.py, madebyollin/taesd 5cccb12, torch 2.15).
@Suite("Tiny autoencoder (TAEF2)", .tags(.golden))
struct TinyAutoencoderTests {
    struct Values: Decodable {
        let shape: [Int]
        let values: [Float]
        var tensor: Tensor { Tensor(shape: shape, values: values) }
    }
    struct Fixture: Decodable {
        let latent: Values
        let features: [Values]
        let decoded: Values
    }

    static let weights = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models/taef2").path

    static func model(fusion: Bool = false) throws -> TinyAutoencoder {
        var generator = TestGenerator(state: 3)
        let model = try TinyAutoencoder(configuration: .taef2, fusion: fusion, using: &generator)
        try model.loadPyTorch(encoder: weights + "/taef2_encoder.pth", decoder: weights + "/taef2_decoder.pth")
        return model
    }

    static func input() throws -> Tensor {
        let image = try Image(contentsOfFile: Fixtures.path("taef2/input.png"))
        return Tensor(shape: [1, image.height, image.width, 3], values: image.pixels.map { $0 * 2 - 1 })
    }

    static func expectClose(_ actual: Tensor, _ expected: Values, tolerance: Double, _ label: String) {
        #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)")
        guard actual.shape == expected.shape else { return }
        let error = relativeError(actual, expected.tensor)
        #expect(error < tolerance, "\(label): error \(error)")
    }

    @Test("Encoder and decoder equal the PyTorch module's on the released weights")
    func parity() throws {
        let fixture = try Fixtures.json("taef2/taef2.json", as: Fixture.self)
        let model = try Self.model()
        // `diffsr inspect` of the two files: 1,338,528 and 1,338,499 parameters.
        #expect(model.encoder.parameterCount == 1_338_528 && model.decoder.parameterCount == 1_338_499)
        let posterior = withoutGradients { model.encode(try! Self.input()) }
        #expect(!posterior.isStochastic)
        Self.expectClose(posterior.mean, fixture.latent, tolerance: 1e-4, "latent")
        Self.expectClose(posterior.features[0], fixture.features[0], tolerance: 1e-4, "1/2 feature")
        Self.expectClose(posterior.features[1], fixture.features[1], tolerance: 1e-4, "1/4 feature")
        let decoded = withoutGradients { model.decode(fixture.latent.tensor) }
        Self.expectClose(decoded * 0.5 + 0.5, fixture.decoded, tolerance: 1e-4, "decoded")
    }

    @Test("CFW on the tiny decoder: w = 0 is the plain decoder, w > 0 fuses the encoder's features")
    func fusion() throws {
        let plain = try Self.model(), fused = try Self.model(fusion: true)
        let keys = Set(fused.parameterDictionary().keys)
        #expect(keys.contains("decoder.fusion_layer_1.encode_enc_1.conv1.weight"))
        #expect(keys.contains("decoder.fusion_layer_2.encode_enc_2.1.rdb3.conv5.bias"))
        let input = try Self.input()
        let posterior = withoutGradients { fused.encode(input) }
        let reference = withoutGradients { plain.decode(posterior.mean) }
        let atZero = withoutGradients { fused.decode(posterior.mean, features: posterior.features, fusionWeight: 0) }
        #expect(atZero.scalars == reference.scalars)
        let atHalf = withoutGradients { fused.decode(posterior.mean, features: posterior.features, fusionWeight: 0.5) }
        #expect(relativeError(atHalf, reference) > 1e-3)
    }

    @Test("A checkpoint of the wrong part is refused, naming the keys")
    func wrongFiles() throws {
        var generator = TestGenerator(state: 3)
        let model = try TinyAutoencoder(configuration: .taef2, fusion: false, using: &generator)
        #expect(throws: ParameterUpdateError.self) {
            try model.loadPyTorch(encoder: Self.weights + "/taef2_decoder.pth", decoder: Self.weights + "/taef2_encoder.pth")
        }
        var small = try TinyAutoencoder(configuration: TinyAutoencoderConfiguration(latentChannels: 4, midblockNormalization: true),
                                         fusion: false, using: &generator)
        do {
            try small.loadPyTorch(encoder: Self.weights + "/taef2_encoder.pth", decoder: Self.weights + "/taef2_decoder.pth")
            Issue.record("a 4-channel model took TAEF2's 32-channel weights")
        } catch let error as ParameterUpdateError {
            #expect(error.mismatched.map(\.key).contains("encoder.14.weight"))
        }
        small = model
        #expect(small.encoder.layers.count == 15 && small.decoder.layers.count == 20)
    }
}
