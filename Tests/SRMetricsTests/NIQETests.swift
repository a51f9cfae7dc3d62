import Foundation
import Testing
import _TestSupport
import SRImage
@testable import SRMetrics

/// NIQE against BasicSR 1.4.2 `calculate_niqe` (fixtures: Tools/golden/make_fixtures.py). Needs the
/// pristine parameters, which `make test` fetches (`make niqe-params`) and names in DIFFSR_NIQE_PARAMS.
@Suite("NIQE")
struct NIQETests {
    struct Fixture: Decodable {
        struct Case: Decodable { let file: String; let crop_border: Int; let niqe: Double }
        let cases: [Case]
    }

    static func parameters() throws -> NIQEParameters {
        let repoCache = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".cache/niqe/niqe_pris_params.npz").path
        let path = ProcessInfo.processInfo.environment[NIQEParameters.environmentVariable] ?? repoCache
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("NIQE parameters missing at \(path): run `make niqe-params` (make test does)")
            throw MetricError.parameters("missing")
        }
        return try NIQEParameters(contentsOfFile: path)
    }

    @Test("NIQE matches calculate_niqe to 0.01", .tags(.golden),
          arguments: (try! Fixtures.json("niqe.json", as: Fixture.self)).cases)
    func golden(_ c: Fixture.Case) throws {
        let image = try Image(contentsOfFile: Fixtures.path(c.file))
        let value = try NIQE(parameters: try Self.parameters(), cropBorder: c.crop_border)(image)
        #expect(abs(value - c.niqe) < 0.01, "\(c.file) border \(c.crop_border): \(value) vs \(c.niqe)")
    }

    @Test("The pristine model loads: 36 means, a symmetric 36x36 covariance, a normalized 7x7 window")
    func parametersLoad() throws {
        let p = try Self.parameters()
        #expect(p.mean.count == 36 && p.covariance.count == 36 * 36 && p.windowSize == 7)
        for i in 0..<36 { for j in 0..<36 { #expect(abs(p.covariance[i * 36 + j] - p.covariance[j * 36 + i]) < 1e-9) } }
        #expect(abs(p.window.reduce(0, +) - 1) < 1e-6)
    }

    @Test("Too small an image is refused")
    func tooSmall() throws {
        let image = Image(width: 100, height: 100, channels: 3, repeating: 0.5)
        #expect(throws: MetricError.self) { try NIQE(parameters: try Self.parameters())(image) }
    }

    @Test("Pseudo-inverse: A·pinv(A)·A = A for a singular symmetric matrix")
    func pseudoInverse() {
        // Rank-2 3x3: v1 v1ᵀ + 2 v2 v2ᵀ.
        let v1 = [1.0, 2.0, 0.5], v2 = [0.0, -1.0, 3.0]
        var a = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { a[i * 3 + j] = v1[i] * v1[j] + 2 * v2[i] * v2[j] } }
        let p = SymmetricMatrix.pseudoInverse(a, size: 3)
        func mul(_ x: [Double], _ y: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: 9)
            for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { out[i * 3 + j] += x[i * 3 + k] * y[k * 3 + j] } } }
            return out
        }
        let back = mul(mul(a, p), a)
        for k in 0..<9 { #expect(abs(back[k] - a[k]) < 1e-9) }
    }

    @Test("npy parsing handles C and Fortran order")
    func npyOrder() throws {
        func npy(_ header: String, _ values: [Double]) -> [UInt8] {
            var text = header
            while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
            text += "\n"
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.utf8.count & 0xFF), UInt8(text.utf8.count >> 8)]
            bytes += Array(text.utf8)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
            return bytes
        }
        let c = try NumpyArchive.parseNPY(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", [1, 2, 3, 4, 5, 6]), name: "c")
        let f = try NumpyArchive.parseNPY(npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", [1, 4, 2, 5, 3, 6]), name: "f")
        #expect(c.values == [1, 2, 3, 4, 5, 6] && f.values == c.values && f.shape == [2, 3])
        #expect(throws: MetricError.self) { try NumpyArchive.parseNPY([1, 2, 3], name: "bad") }
    }
}
