import Testing
import SRTensor

@Suite("Concatenation and slicing across threads")
struct LargeShapeOperationTests {
    /// 2 × 64 × 64 rows of 40 + 24 channels: enough rows for several threads' chunks.
    @Test("Channel concatenation of NHWC tensors and its slices (the pullback) place every element")
    func concatenateAndSlice() {
        let a = Tensor(shape: [2, 64, 64, 40], values: (0..<(2 * 64 * 64 * 40)).map { Float($0) })
        let b = Tensor(shape: [2, 64, 64, 24], values: (0..<(2 * 64 * 64 * 24)).map { -Float($0) })
        let joined = Tensor.concatenate([a, b], alongAxis: 3)
        #expect(joined.shape == [2, 64, 64, 64])
        let j = joined.scalars, av = a.scalars, bv = b.scalars
        var misplaced = 0
        for pixel in 0..<(2 * 64 * 64) {
            for k in 0..<40 where j[pixel * 64 + k] != av[pixel * 40 + k] { misplaced += 1 }
            for k in 0..<24 where j[pixel * 64 + 40 + k] != bv[pixel * 24 + k] { misplaced += 1 }
        }
        #expect(misplaced == 0)
        #expect(joined.sliced(alongAxis: 3, from: 0, count: 40).scalars == av)
        #expect(joined.sliced(alongAxis: 3, from: 40, count: 24).scalars == bv)
        // The pullback hands each input its own channels of the gradient.
        let (_, gradients) = valueAndGradient(at: [a, b]) { t in (Tensor.concatenate([t[0], t[1]], alongAxis: 3) * joined).sum() }
        #expect(gradients[0].scalars == av && gradients[1].scalars == bv)
    }
}
