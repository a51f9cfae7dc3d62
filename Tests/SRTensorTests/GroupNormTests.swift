import Testing
import SRSupport
import SRTensor
import _TestSupport

@Suite("GroupNorm kernel")
struct GroupNormKernelTests {
    /// 2 × 32 × 32 × 64: several threads' pixel ranges per batch element (one team, a barrier
    /// between the statistics and the normalization).
    @Test("Fused GroupNorm → SiLU equals the two operations; one thread equals the team")
    func fusedEqualsSeparate() {
        let x = testTensor([2, 32, 32, 64], seed: 61, lower: -3, upper: 4)
        let gamma = testTensor([64], seed: 62, lower: 0.5, upper: 1.5), beta = testTensor([64], seed: 63)
        let probe = testTensor([2, 32, 32, 64], seed: 64)
        func run(fused: Bool) -> (Tensor, [Tensor]) {
            let f: ([Tensor]) -> Tensor = { p in
                fused ? p[0].groupNormalizedSiLU(groups: 32, scale: p[1], offset: p[2])
                    : p[0].groupNormalized(groups: 32, scale: p[1], offset: p[2]).silu()
            }
            let value = withoutGradients { f([x, gamma, beta]) }
            return (value, valueAndGradient(at: [x, gamma, beta]) { p in (f(p) * probe).sum() }.1)
        }
        let (fused, fusedGradients) = run(fused: true)
        let (separate, separateGradients) = run(fused: false)
        #expect(relativeError(fused, separate) < 1e-6, "forward: \(relativeError(fused, separate))")
        for (name, i) in [("x", 0), ("γ", 1), ("β", 2)] {
            let e = relativeError(fusedGradients[i], separateGradients[i])
            #expect(e < 1e-5, "∂/∂\(name): \(e)")
        }
        // The same on one thread (inline, no barrier): equal up to the statistics' summation order.
        let (serial, serialGradients) = ComputeThreads.serially { run(fused: true) }
        #expect(relativeError(serial, fused) < 1e-6, "serial forward: \(relativeError(serial, fused))")
        #expect(relativeError(serialGradients[0], fusedGradients[0]) < 1e-5)
    }

    @Test("γ and β gradients without an input gradient (an untracked input) equal those with it")
    func parameterGradientsAlone() {
        let x = testTensor([2, 8, 8, 32], seed: 65, lower: -2, upper: 2)
        let gamma = testTensor([32], seed: 66, lower: 0.5, upper: 1.5), beta = testTensor([32], seed: 67)
        let probe = testTensor([2, 8, 8, 32], seed: 68)
        for silu in [false, true] {
            func loss(_ x: Tensor, _ g: Tensor, _ b: Tensor) -> Tensor {
                ((silu ? x.groupNormalizedSiLU(groups: 8, scale: g, offset: b) : x.groupNormalized(groups: 8, scale: g, offset: b)) * probe).sum()
            }
            let all = valueAndGradient(at: [x, gamma, beta]) { p in loss(p[0], p[1], p[2]) }.1
            let parameters = valueAndGradient(at: [gamma, beta]) { p in loss(x, p[0], p[1]) }.1
            #expect(relativeError(parameters[0], all[1]) < 1e-6 && relativeError(parameters[1], all[2]) < 1e-6, "silu \(silu)")
        }
    }
}
