import Testing
import SRNN
import SRTensor
import _TestSupport

/// An SR3-style residual block with self-attention built from SRNN layers, against the same block
/// in PyTorch (fixture `residual_attention_block` of Tools/golden/make_engine_fixtures.py).
final class ResidualAttentionBlock: Module, @unchecked Sendable {
    let norm1: GroupNorm, conv1: Conv2D, noise: Linear, norm2: GroupNorm, conv2: Conv2D, res: Conv2D
    let attention: Attention2D

    init(dim: Int, outputDim: Int, embedding: Int, groups: Int, generator: inout TestGenerator) {
        norm1 = GroupNorm(groups: groups, channels: dim)
        conv1 = Conv2D(inputChannels: dim, outputChannels: outputDim, kernelSize: 3, padding: 1, using: &generator)
        noise = Linear(inputFeatures: embedding, outputFeatures: outputDim, using: &generator)
        norm2 = GroupNorm(groups: groups, channels: outputDim)
        conv2 = Conv2D(inputChannels: outputDim, outputChannels: outputDim, kernelSize: 3, padding: 1, using: &generator)
        res = Conv2D(inputChannels: dim, outputChannels: outputDim, kernelSize: 1, using: &generator)
        attention = Attention2D(channels: outputDim, heads: 1, groups: groups, using: &generator)
    }

    func callAsFunction(_ x: Tensor, embedding: Tensor) -> Tensor {
        var h = conv1(norm1(x).silu())
        let shift = noise(embedding)
        h = h + shift.reshaped(to: [shift.shape[0], 1, 1, shift.shape[1]])
        h = conv2(norm2(h).silu()) + res(x)
        return attention(h)
    }
}

@Suite("PyTorch goldens: layers", .tags(.golden))
struct ResidualBlockGoldenTests {
    /// Fixture key → this module's path.
    static func path(_ key: String) -> String {
        for (prefix, replacement) in [("attn_norm.", "attention.norm."), ("qkv.", "attention.qkv."), ("out.", "attention.out.")]
            where key.hasPrefix(prefix) {
            return replacement + key.dropFirst(prefix.count)
        }
        return key
    }

    @Test func residualAttentionBlock() throws {
        let f = EngineFixture.load("residual_attention_block")
        var generator = TestGenerator(state: 77)
        let block = ResidualAttentionBlock(dim: 8, outputDim: 16, embedding: 12, groups: 4, generator: &generator)
        let parameters = f.nested("parameters")
        var values: [String: Tensor] = [:], expectedGradients: [String: Tensor] = [:]
        for (key, entry) in parameters {
            let entry = entry as! [String: Any]
            values[Self.path(key)] = EngineFixture.tensor(entry["value"] as! [String: Any])
            expectedGradients[Self.path(key)] = EngineFixture.tensor(entry["grad"] as! [String: Any])
        }
        try block.update(parameters: values)
        let (x, e, probe) = (f.tensor("x"), f.tensor("e"), f.tensor("probe"))
        let out = withoutGradients { block(x, embedding: e) }
        #expect(relativeError(out, f.tensor("out")) < 1e-4)
        let (_, gradients) = valueAndGradient(model: block) { m in (m(x, embedding: e) * probe).sum() }
        #expect(Set(gradients.keys) == Set(expectedGradients.keys))
        for (path, expected) in expectedGradients {
            #expect(relativeError(gradients[path]!, expected) < 1e-4, "\(path): \(relativeError(gradients[path]!, expected))")
        }
        let inputGradient = valueAndGradient(at: x) { (block($0, embedding: e) * probe).sum() }.gradient
        #expect(relativeError(inputGradient, f.tensor("grad_x")) < 1e-4)
    }
}
