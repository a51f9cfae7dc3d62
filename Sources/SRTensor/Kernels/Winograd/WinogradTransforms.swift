import Foundation
import SRSupport

/// Winograd F(4×4, 3×3)'s transforms (Lavin & Gray's matrices, points 0, ±1, ±2, ∞): the filters
/// (G g Gᵀ, cached on the weights), the 6×6 input tiles (Bᵀ d B) and the output tiles (Aᵀ m A),
/// in SIMD8 over NHWC channels.
extension WinogradConvolution {
    /// The transformed filters U = G g Gᵀ: for each point ξ a C × K matrix, packed for
    /// `PointGEMM` (`PointGEMM.packedIndex`), the 36 matrices C · K floats apart; for the
    /// backward-data pass (`transposed`) those of the flipped, channel-swapped filters, K × C.
    final class TransformedFilters: SizedDerivedValue {
        let pointer: UnsafeMutablePointer<Float>
        let byteCount: Int
        init(count: Int) {
            pointer = .allocate(capacity: count)
            byteCount = count * MemoryLayout<Float>.stride
        }
        deinit { pointer.deallocate() }
    }

    static func filters(_ weights: Tensor, inputChannels c: Int, outputChannels k: Int, transposed: Bool = false) -> TransformedFilters {
        weights.storage.derivedValue(key: transposed ? "winograd-f4x4-3x3-transposed-packed" : "winograd-f4x4-3x3-packed") { () -> TransformedFilters in
            let filters = TransformedFilters(count: 36 * c * k)
            let w = weights.storage.pointer, u = filters.pointer
            let plane = c * k
            // Eight output channels at a time (k is a multiple of 8): one SIMD lane each.
            parallelForEach(k / 8) { block in
                let o0 = block * 8
                withUnsafeTemporaryAllocation(of: Vector.self, capacity: 27) { buffer in
                    let g = buffer.baseAddress!, left = g + 9
                    for i in 0..<c {
                        for r in 0..<9 {
                            let tap = transposed ? 8 - r : r
                            var lanes = Vector.zero
                            for lane in 0..<8 { lanes[lane] = w[((o0 + lane) * 9 + tap) * c + i] }
                            g[r] = lanes
                        }
                        for j in 0..<3 {   // G · column j of g → column j of left (6×3)
                            let t = filterTransform(g[j], g[3 + j], g[6 + j])
                            (left[j], left[3 + j], left[6 + j], left[9 + j], left[12 + j], left[15 + j]) = t
                        }
                        // Row r of left · Gᵀ → U[ξ = 6r + s], lane l = output channel o0 + l.
                        func store(_ value: Vector, _ xi: Int) {
                            if transposed {   // K × C: the lanes are rows o0…o0+7, column i
                                for lane in 0..<8 {
                                    u[xi * plane + PointGEMM.packedIndex(row: o0 + lane, column: i, rows: k, columns: c)] = value[lane]
                                }
                            } else {          // C × K: the lanes are columns o0…o0+7 of row i, adjacent
                                let index = xi * plane + PointGEMM.packedIndex(row: i, column: o0, rows: c, columns: k)
                                UnsafeMutableRawPointer(u).storeBytes(of: value, toByteOffset: index * 4, as: Vector.self)
                            }
                        }
                        for r in 0..<6 {
                            let t = filterTransform(left[r * 3], left[r * 3 + 1], left[r * 3 + 2])
                            store(t.0, r * 6); store(t.1, r * 6 + 1); store(t.2, r * 6 + 2)
                            store(t.3, r * 6 + 3); store(t.4, r * 6 + 4); store(t.5, r * 6 + 5)
                        }
                    }
                }
            }
            return filters
        }
    }

    /// G (6×3, points 0, 1, −1, 2, −2, ∞) applied to three filter taps.
    @inline(__always)
    static func filterTransform(_ a: Vector, _ b: Vector, _ c: Vector) -> (Vector, Vector, Vector, Vector, Vector, Vector) {
        let q = a * (1 / 24) + c * (1 / 6), r = b * (1 / 12)
        return (a * 0.25, (a + b + c) * (-1 / 6), (a - b + c) * (-1 / 6), q + r, q - r, c)
    }

    /// Bᵀ applied to six values (one column or row of a 6×6 tile).
    @inline(__always)
    static func inputTransform(_ d0: Vector, _ d1: Vector, _ d2: Vector, _ d3: Vector, _ d4: Vector, _ d5: Vector)
        -> (Vector, Vector, Vector, Vector, Vector, Vector)
    {
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// Aᵀ applied to six values.
    @inline(__always)
    static func outputTransform(_ m0: Vector, _ m1: Vector, _ m2: Vector, _ m3: Vector, _ m4: Vector, _ m5: Vector)
        -> (Vector, Vector, Vector, Vector)
    {
        let p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4
        return (m0 + p + r, q + 2 * s, p + 4 * r, q + 8 * s + m5)
    }

    /// Input tiles `first..<first+count` (6×6, stride 4, zero outside the image) → Bᵀ d B, stored
    /// at `layout`'s places for points ξ = 0…35 and tiles `tile − first`.
    ///
    /// Tiles wholly inside the image (all but the border ones) load their columns straight from
    /// one base address and transform them as they arrive, with wrapping index arithmetic (no
    /// bounds or overflow checks in the loop); border tiles load element by element with zeros
    /// outside the image.
    static func transformInputTiles(_ x: UnsafeRawPointer, geometry g: ConvolutionGeometry, first: Int, count: Int,
                                    into vRaw: UnsafeMutableRawPointer, layout: TileLayout, parallel: Bool = true) {
        let (c, h, w) = (g.inputChannels, g.height, g.width)
        let grid = TileGrid(g)
        let rowBytes = w &* c &* 4, pixelBytes = c &* 4, planeBytes = layout.planeBytes, tileBytes = layout.tileBytes
        forEachTile(count, parallel: parallel) { local in
            let tile = first + local
            let (n, ty, tx) = grid.position(tile)
            let y0 = ty * 4 - g.padTop, x0 = tx * 4 - g.padLeft
            let interior = y0 >= 0 && x0 >= 0 && y0 + 6 <= h && x0 + 6 <= w
            let origin = interior ? (((n &* h &+ y0) &* w &+ x0) &* c) &* 4 : 0
            withUnsafeTemporaryAllocation(of: Vector.self, capacity: 36) { d in
                for c0 in stride(from: 0, to: c, by: 8) {
                    if interior {
                        let p = x + (origin &+ c0 &* 4)
                        for j in 0..<6 {   // column j, loaded and transformed: Bᵀ d
                            let q = p + j &* pixelBytes
                            let t = inputTransform(
                                q.loadUnaligned(as: Vector.self), q.loadUnaligned(fromByteOffset: rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 2 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 3 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 4 &* rowBytes, as: Vector.self),
                                q.loadUnaligned(fromByteOffset: 5 &* rowBytes, as: Vector.self))
                            (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j]) = t
                        }
                    } else {
                        for i in 0..<6 {
                            let y = y0 + i
                            for j in 0..<6 {
                                let xx = x0 + j
                                d[i * 6 + j] = y >= 0 && y < h && xx >= 0 && xx < w
                                    ? x.loadUnaligned(fromByteOffset: (((n * h + y) * w + xx) * c + c0) * 4, as: Vector.self) : .zero
                            }
                        }
                        for j in 0..<6 {   // columns: Bᵀ d
                            let t = inputTransform(d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j])
                            (d[j], d[6 + j], d[12 + j], d[18 + j], d[24 + j], d[30 + j]) = t
                        }
                    }
                    for i in 0..<6 {   // rows: (Bᵀ d) B
                        let r = i * 6
                        let t = inputTransform(d[r], d[r + 1], d[r + 2], d[r + 3], d[r + 4], d[r + 5])
                        let q = vRaw + (r &* planeBytes &+ local &* tileBytes &+ c0 &* 4)
                        q.storeBytes(of: t.0, as: Vector.self)
                        q.storeBytes(of: t.1, toByteOffset: planeBytes, as: Vector.self)
                        q.storeBytes(of: t.2, toByteOffset: 2 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.3, toByteOffset: 3 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.4, toByteOffset: 4 &* planeBytes, as: Vector.self)
                        q.storeBytes(of: t.5, toByteOffset: 5 &* planeBytes, as: Vector.self)
                    }
                }
            }
        }
    }

    /// M (`layout`, K channels) of tiles `first..<first+count` → their 4×4 output tiles (+ the
    /// bias and addend of `terms`), on the calling thread. Each column of M is transformed as it is
    /// loaded (Aᵀ m), then each row (· A); full tiles store without per-column checks.
    static func transformOutputTiles(_ mRaw: UnsafeRawPointer, geometry g: ConvolutionGeometry, first: Int, count: Int,
                                     layout: TileLayout, terms: OutputTerms, into out: UnsafeMutableRawPointer) {
        let k = g.outputChannels
        let planeBytes = layout.planeBytes, tileBytes = layout.tileBytes
        let (oh, ow) = (g.outputHeight, g.outputWidth)
        let grid = TileGrid(g)
        let pixelBytes = k &* 4, rowBytes = ow &* k &* 4
        let residual = terms.perSample ? nil : terms.addend
        withUnsafeTemporaryAllocation(of: Vector.self, capacity: 24) { t in
            for local in 0..<count {
                let tile = first + local
                let (n, ty, tx) = grid.position(tile)
                let rows = min(4, oh - ty * 4), columns = min(4, ow - tx * 4)
                let origin = (((n &* oh &+ ty &* 4) &* ow &+ tx &* 4) &* k) &* 4
                for k0 in stride(from: 0, to: k, by: 8) {
                    let p = mRaw + (local &* tileBytes &+ k0 &* 4)
                    for j in 0..<6 {   // column j of the 6×6 tile: Aᵀ m (4 of 6 rows kept)
                        let q = p + j &* planeBytes
                        let r = outputTransform(
                            q.loadUnaligned(as: Vector.self), q.loadUnaligned(fromByteOffset: 6 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 12 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 18 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 24 &* planeBytes, as: Vector.self),
                            q.loadUnaligned(fromByteOffset: 30 &* planeBytes, as: Vector.self))
                        (t[j], t[6 + j], t[12 + j], t[18 + j]) = r
                    }
                    var b = terms.bias.map { $0.loadUnaligned(fromByteOffset: k0 * 4, as: Vector.self) } ?? .zero
                    if terms.perSample, let shift = terms.addend {
                        b += shift.loadUnaligned(fromByteOffset: (n &* k &+ k0) &* 4, as: Vector.self)
                    }
                    for i in 0..<rows {
                        let r = i * 6
                        let y = outputTransform(t[r], t[r + 1], t[r + 2], t[r + 3], t[r + 4], t[r + 5])
                        let offset = origin &+ i &* rowBytes &+ k0 &* 4
                        var v = (y.0 + b, y.1 + b, y.2 + b, y.3 + b)
                        if let residual {
                            let q = residual + offset
                            v.0 += q.loadUnaligned(as: Vector.self)
                            if columns > 1 { v.1 += q.loadUnaligned(fromByteOffset: pixelBytes, as: Vector.self) }
                            if columns > 2 { v.2 += q.loadUnaligned(fromByteOffset: 2 &* pixelBytes, as: Vector.self) }
                            if columns > 3 { v.3 += q.loadUnaligned(fromByteOffset: 3 &* pixelBytes, as: Vector.self) }
                        }
                        let o = out + offset
                        o.storeBytes(of: v.0, as: Vector.self)
                        if columns == 4 {
                            o.storeBytes(of: v.1, toByteOffset: pixelBytes, as: Vector.self)
                            o.storeBytes(of: v.2, toByteOffset: 2 &* pixelBytes, as: Vector.self)
                            o.storeBytes(of: v.3, toByteOffset: 3 &* pixelBytes, as: Vector.self)
                        } else {
                            if columns > 1 { o.storeBytes(of: v.1, toByteOffset: pixelBytes, as: Vector.self) }
                            if columns > 2 { o.storeBytes(of: v.2, toByteOffset: 2 &* pixelBytes, as: Vector.self) }
                        }
                    }
                }
            }
        }
    }
}
