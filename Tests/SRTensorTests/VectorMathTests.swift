import Foundation
import Testing
@testable import SRTensor

@Suite("Vector math kernels")
struct VectorMathTests {
    /// Inputs over the whole clamped range and beyond, with a tail that is not a multiple of 8.
    static let inputs: [Float] = (0..<203).map { i in Float(i) * 0.97 - 100 + Float(sin(Double(i))) }

    @Test("The eight-lane exp equals the scalar exp bit for bit, and both follow Foundation's exp")
    func simdExp() {
        for start in stride(from: 0, to: Self.inputs.count - 8, by: 8) {
            let lanes = VectorMath.exp(SIMD8<Float>(Self.inputs[start..<start + 8]))
            for l in 0..<8 {
                let x = Self.inputs[start + l]
                #expect(lanes[l].bitPattern == VectorMath.exp(x).bitPattern, "exp(\(x))")
                if x > -87, x < 88 {
                    #expect(abs(Double(lanes[l]) - Foundation.exp(Double(x))) <= 2e-7 * Foundation.exp(Double(x)), "exp(\(x))")
                }
            }
        }
    }

    @Test("Softmax numerators and their sum in one pass; the maximum over lanes and tail")
    func exponentialsAndMaximum() {
        let x = Self.inputs.map { $0 / 20 }   // [−5, 5]
        let scale: Float = 0.7
        let shift = x.max()! * scale
        #expect(VectorMath.maximum(x, count: x.count) == x.max()!)
        #expect(VectorMath.maximum(Array(x.reversed()), count: x.count) == x.max()!)
        var output = [Float](repeating: .nan, count: x.count)
        let sum = output.withUnsafeMutableBufferPointer { VectorMath.exponentials(x, into: $0.baseAddress!, count: x.count, scale: scale, shift: shift) }
        let expected = x.map { VectorMath.exp($0 * scale - shift) }
        #expect(output.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(abs(Double(sum) - expected.reduce(0.0) { $0 + Double($1) }) <= 1e-6 * Double(sum))
        // In place, as the blocked attention uses it.
        var row = x
        let inPlace = row.withUnsafeMutableBufferPointer { VectorMath.exponentials($0.baseAddress!, into: $0.baseAddress!, count: x.count, scale: scale, shift: shift) }
        #expect(row == output && inPlace == sum)
    }
}
