/// The point-wise stage of Winograd's algorithm, M[ξ] = V[ξ] × U[ξ] for the 36 points ξ, with a
/// register-blocked micro-kernel of its own instead of a BLAS call.
///
/// Why: the filters U are transformed once and cached, so they can be stored already packed the
/// way the kernel reads them (panels of 16 columns), and the transformed tiles V are read in place
/// (their rows are a tile's values, `lda` apart), so nothing is packed per call. `dnnl_sgemm`
/// packs both operands on every one of the 36 calls per block, allocates its buffers and runs its
/// driver each time. Measured single-threaded on the blocks' shapes (tile-major V, best of 40
/// trials, alternating): 73–91 GFLOP/s against 64–81 at 54–56 tiles × 64 channels, 84–86 against
/// 79–81 at 28 × 128, 63–65 against 51–52 at 16 × 256.
///
/// The kernel computes 6 rows × 16 columns (12 ymm accumulators; each step broadcasts one value
/// of each of the 6 rows of A and loads one row of the B panel, 12 FMAs), or 6 × 8 for a last
/// panel of 8 columns. Rows past the end of A are computed on a copy of its last row and not
/// stored. For long sums (the weights gradient's, over all tiles of a block) the caller asks for
/// runs of 128 terms, each summed in registers and then added to c: against oneDNN's direct
/// kernel on a 1,922-tile case, 3.8e-4 that way, 1.1e-3 in one run, 5.1e-4 with `dnnl_sgemm`. With
/// `DIFFSR_FMA` (builds for a CPU with FMA, Package.swift) the products are fused multiply-adds
/// (`VectorMath.madd`);
/// otherwise a multiply and an add (different rounding, same algorithm).
///
/// Used by the forward and backward-data pipelines (A: the transformed tiles, B: the filters,
/// packed when they are transformed) and by the weights gradient (A: the transformed input tiles,
/// read transposed; B: the transformed output-gradient tiles, packed as they are written).
extension WinogradConvolution {
    enum PointGEMM {
        typealias Vector = SIMD8<Float>

        /// Where element (row `p`, column `j`) of a `rows × columns` matrix sits in its packed form:
        /// panels of 16 columns (the last one 8 wide when `columns` is an odd multiple of 8), each
        /// stored row by row, `[rows][16]`.
        @inline(__always)
        static func packedIndex(row p: Int, column j: Int, rows: Int, columns: Int) -> Int {
            let panel = j / 16 * 16
            return panel * rows + p * Swift.min(16, columns - panel) + (j - panel)
        }

        /// c[i, j] (+)= Σₚ a[i, p] · b[p, j] for `m` rows, `n` columns (a multiple of 8) and `r`
        /// terms: `a` row-major with rows `lda` floats apart (`transposedA`: `a` holds Aᵀ, r rows of
        /// m values, `lda` apart), `b` packed (`packedIndex`), `c` row-major with rows `ldc` floats
        /// apart, written or, with `accumulate`, added to. The terms are summed in registers in runs
        /// of at most `termsPerRun`, each run's sum then added to c. Runs on the calling thread. The
        /// loop order depends on B's size (see the body); the results do not.
        static func multiply(_ a: UnsafePointer<Float>, lda: Int, transposedA: Bool = false, packed b: UnsafePointer<Float>,
                             into c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, r: Int, accumulate: Bool = false,
                             termsPerRun: Int = .max) {
            precondition(r > 0 && n % 8 == 0, "PointGEMM: \(r) terms, \(n) columns (needs terms and a multiple of 8)")
            // a[i, p] at i · rowStride + p · termStride.
            let (rowStride, termStride) = transposedA ? (1, lda) : (lda, 1)
            // c[row..<row+6, panel..<panel+width] for every run of terms.
            @inline(__always) func block(_ row: Int, _ panel: Int) {
                let rows = Swift.min(6, m - row), width = Swift.min(16, n - panel)
                let bp = b + panel &* r, out = c + (row &* ldc &+ panel)
                var first = 0
                while first < r {
                    let terms = Swift.min(termsPerRun, r - first), add = accumulate || first > 0
                    let a = rowPointers(a + (row &* rowStride &+ first &* termStride), rowStride: rowStride, rows: rows)
                    if width == 16 {
                        kernel16(a, termStride: termStride, rows: rows, bp + first &* 16, out, ldc: ldc, r: terms, accumulate: add)
                    } else {
                        kernel8(a, termStride: termStride, rows: rows, bp + first &* 8, out, ldc: ldc, r: terms, accumulate: add)
                    }
                    first += terms
                }
            }
            // Panels in groups whose part of B fits in half of L1 (16 KB: all four panels at 64
            // channels, two at 128, one from 256 on); within a group, row groups outermost, so each
            // group's rows of A are loaded once per group of panels while that part of B stays in L1
            // (measured at 64 channels against panels outermost: 0.86–0.99× the time, fastest of
            // 6–10 alternating runs; at 128 channels, two panels per group, no measurable change).
            let panelsPerGroup = Swift.max(1, 4096 / (r * 16))
            for group in stride(from: 0, to: n, by: 16 * panelsPerGroup) {
                let end = Swift.min(n, group + 16 * panelsPerGroup)
                for row in stride(from: 0, to: m, by: 6) {
                    for panel in stride(from: group, to: end, by: 16) { block(row, panel) }
                }
            }
        }

        typealias RowPointers = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                 UnsafePointer<Float>, UnsafePointer<Float>)

        /// The 6 row pointers of a row group, rows past `rows` repeating the last one.
        @inline(__always)
        static func rowPointers(_ a: UnsafePointer<Float>, rowStride: Int, rows: Int) -> RowPointers {
            let last = rows - 1
            return (a, a + Swift.min(1, last) &* rowStride, a + Swift.min(2, last) &* rowStride, a + Swift.min(3, last) &* rowStride,
                    a + Swift.min(4, last) &* rowStride, a + Swift.min(5, last) &* rowStride)
        }

        /// Stores (or, with `accumulate`, adds) one 8-wide accumulator at byte `offset` of `o`.
        @inline(__always)
        static func store(_ value: Vector, _ o: UnsafeMutableRawPointer, _ offset: Int, accumulate: Bool) {
            o.storeBytes(of: accumulate ? value + o.loadUnaligned(fromByteOffset: offset, as: Vector.self) : value,
                         toByteOffset: offset, as: Vector.self)
        }

        /// 6 × 16 block: c[0..<rows, 0..<16] (+)= a[0..<rows, 0..<r] × panel, a[i, p] = a.i[p · termStride].
        @inline(__always)
        static func kernel16(_ a: RowPointers, termStride: Int, rows: Int, _ b: UnsafePointer<Float>,
                             _ c: UnsafeMutablePointer<Float>, ldc: Int, r: Int, accumulate: Bool) {
            var c00 = Vector(), c01 = Vector(), c10 = Vector(), c11 = Vector(), c20 = Vector(), c21 = Vector()
            var c30 = Vector(), c31 = Vector(), c40 = Vector(), c41 = Vector(), c50 = Vector(), c51 = Vector()
            let (a0, a1, a2, a3, a4, a5) = a
            var pb = UnsafeRawPointer(b), q = 0
            for _ in 0..<r {
                let b0 = pb.load(as: Vector.self), b1 = pb.load(fromByteOffset: 32, as: Vector.self)
                var s = Vector(repeating: a0[q]); c00 = VectorMath.madd(s, b0, c00); c01 = VectorMath.madd(s, b1, c01)
                s = Vector(repeating: a1[q]); c10 = VectorMath.madd(s, b0, c10); c11 = VectorMath.madd(s, b1, c11)
                s = Vector(repeating: a2[q]); c20 = VectorMath.madd(s, b0, c20); c21 = VectorMath.madd(s, b1, c21)
                s = Vector(repeating: a3[q]); c30 = VectorMath.madd(s, b0, c30); c31 = VectorMath.madd(s, b1, c31)
                s = Vector(repeating: a4[q]); c40 = VectorMath.madd(s, b0, c40); c41 = VectorMath.madd(s, b1, c41)
                s = Vector(repeating: a5[q]); c50 = VectorMath.madd(s, b0, c50); c51 = VectorMath.madd(s, b1, c51)
                pb += 64; q &+= termStride
            }
            let o = UnsafeMutableRawPointer(c), rowBytes = ldc &* 4
            store(c00, o, 0, accumulate: accumulate); store(c01, o, 32, accumulate: accumulate)
            guard rows > 1 else { return }
            store(c10, o, rowBytes, accumulate: accumulate); store(c11, o, rowBytes &+ 32, accumulate: accumulate)
            guard rows > 2 else { return }
            store(c20, o, 2 &* rowBytes, accumulate: accumulate); store(c21, o, 2 &* rowBytes &+ 32, accumulate: accumulate)
            guard rows > 3 else { return }
            store(c30, o, 3 &* rowBytes, accumulate: accumulate); store(c31, o, 3 &* rowBytes &+ 32, accumulate: accumulate)
            guard rows > 4 else { return }
            store(c40, o, 4 &* rowBytes, accumulate: accumulate); store(c41, o, 4 &* rowBytes &+ 32, accumulate: accumulate)
            guard rows > 5 else { return }
            store(c50, o, 5 &* rowBytes, accumulate: accumulate); store(c51, o, 5 &* rowBytes &+ 32, accumulate: accumulate)
        }

        /// 6 × 8 block (a last panel of 8 columns).
        @inline(__always)
        static func kernel8(_ a: RowPointers, termStride: Int, rows: Int, _ b: UnsafePointer<Float>,
                            _ c: UnsafeMutablePointer<Float>, ldc: Int, r: Int, accumulate: Bool) {
            var c0 = Vector(), c1 = Vector(), c2 = Vector(), c3 = Vector(), c4 = Vector(), c5 = Vector()
            let (a0, a1, a2, a3, a4, a5) = a
            var pb = UnsafeRawPointer(b), q = 0
            for _ in 0..<r {
                let b0 = pb.load(as: Vector.self)
                c0 = VectorMath.madd(Vector(repeating: a0[q]), b0, c0); c1 = VectorMath.madd(Vector(repeating: a1[q]), b0, c1)
                c2 = VectorMath.madd(Vector(repeating: a2[q]), b0, c2); c3 = VectorMath.madd(Vector(repeating: a3[q]), b0, c3)
                c4 = VectorMath.madd(Vector(repeating: a4[q]), b0, c4); c5 = VectorMath.madd(Vector(repeating: a5[q]), b0, c5)
                pb += 32; q &+= termStride
            }
            let o = UnsafeMutableRawPointer(c), rowBytes = ldc &* 4
            store(c0, o, 0, accumulate: accumulate)
            if rows > 1 { store(c1, o, rowBytes, accumulate: accumulate) }
            if rows > 2 { store(c2, o, 2 &* rowBytes, accumulate: accumulate) }
            if rows > 3 { store(c3, o, 3 &* rowBytes, accumulate: accumulate) }
            if rows > 4 { store(c4, o, 4 &* rowBytes, accumulate: accumulate) }
            if rows > 5 { store(c5, o, 5 &* rowBytes, accumulate: accumulate) }
        }
    }
}
