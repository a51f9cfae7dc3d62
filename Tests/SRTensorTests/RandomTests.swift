import Testing
import SRTensor
import _TestSupport

/// The torch-compatible generator against values printed by torch 2.15 on this machine kind
/// (fixtures: Tools/golden/make_random_fixtures.py), compared bit for bit.
@Suite("Torch-compatible random numbers", .tags(.golden))
struct RandomTests {
    struct Fixture: Decodable {
        struct Case: Decodable, CustomTestStringConvertible {
            let seed: UInt64, shape: [Int], kind: String, bits: [UInt32]
            var testDescription: String { "\(kind) seed \(seed) shape \(shape)" }
        }
        let cases: [Case]
    }

    static let fixture: Fixture = try! Fixtures.json("random.json")

    @Test(arguments: fixture.cases)
    func matchesTorch(_ c: Fixture.Case) {
        var generator = TorchGenerator(seed: c.seed)
        var values: [Float]
        switch c.kind {
        case "randn": values = Tensor.randomNormal(c.shape, using: &generator).scalars
        case "rand": values = Tensor.randomUniform(c.shape, using: &generator).scalars
        default:
            values = Tensor.randomNormal(c.shape, using: &generator).scalars
            values += Tensor.randomUniform(c.shape, using: &generator).scalars
        }
        let bits = values.map(\.bitPattern)
        let mismatches = zip(bits, c.bits).filter { $0 != $1 }.count
        #expect(bits.count == c.bits.count && mismatches == 0, "\(mismatches) of \(bits.count) values differ")
    }

    @Test("NCHW fill order permutes the reference's tensor into NHWC")
    func nchwOrder() {
        var a = TorchGenerator(seed: 3), b = TorchGenerator(seed: 3)
        let nhwc = Tensor.randomNormal([1, 4, 5, 3], order: .nchw, using: &a)
        let nchw = Tensor.randomNormal([1, 3, 4, 5], using: &b)
        #expect(nhwc[0, 2, 1, 2] == nchw[0, 2, 2, 1])
        #expect(nhwc.permuted([0, 3, 1, 2]).scalars == nchw.scalars)
    }
}
