import Testing
import SRTensor
import _TestSupport

/// Forward values and gradients against PyTorch 2.15 (fixtures: Tools/golden/make_engine_fixtures.py).
/// Tolerance: 1e-4 relative (Float32 kernels with different summation orders).
@Suite("PyTorch goldens: operations", .tags(.golden))
struct PyTorchGoldenTests {
    static let tolerance = 1e-4

    func check(_ name: String, _ actual: Tensor, _ expected: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == expected.shape, "\(name) shape", sourceLocation: sourceLocation)
        if actual.shape == expected.shape {
            #expect(relativeError(actual, expected) < Self.tolerance, "\(name): \(relativeError(actual, expected))", sourceLocation: sourceLocation)
        }
    }

    @Test("conv2d forward and backward", arguments: ["conv_k1_s1", "conv_k3_s1", "conv_k3_s2"])
    func convolution(_ name: String) {
        let f = EngineFixture.load(name)
        let (x, w, b, probe) = (f.tensor("x"), f.tensor("w"), f.tensor("b"), f.tensor("probe"))
        let stride = f.int("stride"), padding = f.int("padding")
        let (value, grads) = valueAndGradient(at: [x, w, b]) { t in
            (Tensor.conv2d(t[0], weights: t[1], bias: t[2], stride: stride, padding: padding) * probe).sum()
        }
        check("\(name) out", Tensor.conv2d(x, weights: w, bias: b, stride: stride, padding: padding), f.tensor("out"))
        check("\(name) dx", grads[0], f.tensor("grad_x"))
        check("\(name) dw", grads[1], f.tensor("grad_w"))
        check("\(name) db", grads[2], f.tensor("grad_b"))
        #expect(value.scalar.isFinite)
    }

    /// "group_norm": F.group_norm; "group_norm_silu": F.silu(F.group_norm(...)) against the fused
    /// `groupNormalizedSiLU`.
    @Test("GroupNorm, and GroupNorm → SiLU fused", arguments: ["group_norm", "group_norm_silu"])
    func groupNorm(_ name: String) {
        let f = EngineFixture.load(name)
        let (x, g, b, probe) = (f.tensor("x"), f.tensor("gamma"), f.tensor("beta"), f.tensor("probe"))
        let groups = f.int("groups")
        let normalize: (Tensor, Tensor, Tensor) -> Tensor = name == "group_norm_silu"
            ? { $0.groupNormalizedSiLU(groups: groups, scale: $1, offset: $2) }
            : { $0.groupNormalized(groups: groups, scale: $1, offset: $2) }
        let (_, grads) = valueAndGradient(at: [x, g, b]) { t in (normalize(t[0], t[1], t[2]) * probe).sum() }
        check("out", normalize(x, g, b), f.tensor("out"))
        check("dx", grads[0], f.tensor("grad_x"))
        check("dgamma", grads[1], f.tensor("grad_gamma"))
        check("dbeta", grads[2], f.tensor("grad_beta"))
    }

    @Test func attention() {
        let f = EngineFixture.load("attention")
        let (q, k, v, probe) = (f.tensor("q"), f.tensor("k"), f.tensor("v"), f.tensor("probe"))
        let heads = f.int("heads")
        let (_, grads) = valueAndGradient(at: [q, k, v]) { t in (Tensor.attention(query: t[0], key: t[1], value: t[2], heads: heads) * probe).sum() }
        check("out", Tensor.attention(query: q, key: k, value: v, heads: heads), f.tensor("out"))
        check("dq", grads[0], f.tensor("grad_q"))
        check("dk", grads[1], f.tensor("grad_k"))
        check("dv", grads[2], f.tensor("grad_v"))
    }

    @Test func linear() {
        let f = EngineFixture.load("linear")
        let (x, w, b, probe) = (f.tensor("x"), f.tensor("w"), f.tensor("b"), f.tensor("probe"))
        let (_, grads) = valueAndGradient(at: [x, w, b]) { t in ((Tensor.matmul(t[0], t[1], transposeB: true) + t[2]) * probe).sum() }
        check("out", Tensor.matmul(x, w, transposeB: true) + b, f.tensor("out"))
        check("dx", grads[0], f.tensor("grad_x"))
        check("dw", grads[1], f.tensor("grad_w"))
        check("db", grads[2], f.tensor("grad_b"))
    }

    @Test func upsampling() {
        let nearest = EngineFixture.load("upsample_nearest")
        let x = nearest.tensor("x")
        check("nearest", x.upsampledNearest(factor: 2), nearest.tensor("out"))
        check("nearest dx", valueAndGradient(at: x) { ($0.upsampledNearest(factor: 2) * nearest.tensor("probe")).sum() }.gradient,
              nearest.tensor("grad_x"))
        let bilinear = EngineFixture.load("upsample_bilinear")
        let y = bilinear.tensor("x")
        check("bilinear", y.resizedBilinear(height: 7, width: 9), bilinear.tensor("out"))
        check("bilinear dx", valueAndGradient(at: y) { ($0.resizedBilinear(height: 7, width: 9) * bilinear.tensor("probe")).sum() }.gradient,
              bilinear.tensor("grad_x"))
    }
}

@Suite("Attention paths agree")
struct AttentionPathTests {
    @Test("The blocked inference path equals the recorded graph over several blocks")
    func blockedEqualsGraph() {
        let q = testTensor([3, 150, 16], seed: 61), k = testTensor([3, 70, 16], seed: 62), v = testTensor([3, 70, 5], seed: 63)
        let blocked = withoutGradients { Tensor.scaledDotProductAttention(query: q, key: k, value: v, scale: 0.3) }
        let graph = valueAndGradient(at: [q, k, v]) { t in
            Tensor.scaledDotProductAttention(query: t[0], key: t[1], value: t[2], scale: 0.3)
        }.value
        #expect(blocked.shape == [3, 150, 5])
        #expect(relativeError(blocked, graph) < 1e-5)
    }
}
