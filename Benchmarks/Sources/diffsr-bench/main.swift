// diffsr-bench: times the tensor engine's kernels on the cases of Benchmarks/cases.json and prints
// one JSON line per case (name, threads, backend, median milliseconds, GFLOP/s). Release builds only:
//   swift build -c release --product diffsr-bench && .build/release/diffsr-bench [--cases FILE] [--threads N]
//     [--filter TEXT] [--skip-alternatives]
import Foundation
import SRNN
import SRTensor

struct Options {
    var casesPath = "Benchmarks/cases.json"
    var threads = 0
    var filter: String? = nil
    /// Skip the rows that time an alternative beside the engine's own path (`direct`, `openblas`,
    /// `unfused`), e.g. to profile one kernel alone or to compare two builds (`Tools/bench/ab.sh`).
    var skipAlternatives = false
}

var options = Options()
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--cases": options.casesPath = arguments.popFirst() ?? options.casesPath
    case "--threads": options.threads = Int(arguments.popFirst() ?? "0") ?? 0
    case "--filter": options.filter = arguments.popFirst()
    case "--skip-alternatives": options.skipAlternatives = true
    default:
        FileHandle.standardError.write(Data("usage: diffsr-bench [--cases FILE] [--threads N] [--filter TEXT] [--skip-alternatives]\n".utf8))
        exit(2)
    }
}
Parallelism.setThreadCount(options.threads)

guard let data = FileManager.default.contents(atPath: options.casesPath),
      let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let cases = root["cases"] as? [[String: Any]] else {
    FileHandle.standardError.write(Data("diffsr-bench: cannot read \(options.casesPath)\n".utf8))
    exit(1)
}

/// Median wall time in seconds of `body` after two warm-up runs (at least 5 runs, up to ~1 s).
func measure(_ body: () -> Void) -> Double {
    body(); body()
    var times: [Double] = []
    let start = Date()
    while times.count < 5 || (times.count < 30 && Date().timeIntervalSince(start) < 1) {
        let t = Date()
        body()
        times.append(Date().timeIntervalSince(t))
    }
    return times.sorted()[times.count / 2]
}

struct Generator: RandomNumberGenerator {
    var state: UInt64 = 0x1234
    mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state }
}
nonisolated(unsafe) var generator = Generator()
func random(_ shape: [Int]) -> Tensor { Initializer.uniform(shape, bound: 1, using: &generator) }

/// The SR3-style residual block with attention (same as the PyTorch script's).
final class ResidualBlock: Module, @unchecked Sendable {
    let norm1: GroupNorm, conv1: Conv2D, noise: Linear, norm2: GroupNorm, conv2: Conv2D
    let attention: Attention2D
    init(channels: Int, embedding: Int, generator: inout Generator) {
        norm1 = GroupNorm(groups: 32, channels: channels)
        conv1 = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
        noise = Linear(inputFeatures: embedding, outputFeatures: channels, using: &generator)
        norm2 = GroupNorm(groups: 32, channels: channels)
        conv2 = Conv2D(inputChannels: channels, outputChannels: channels, kernelSize: 3, padding: 1, using: &generator)
        attention = Attention2D(channels: channels, heads: 1, groups: 32, using: &generator)
    }
    func callAsFunction(_ x: Tensor, _ e: Tensor) -> Tensor {
        let shift = noise(e)
        let h = conv1(norm1.normalizedSiLU(x), adding: shift.reshaped(to: [shift.shape[0], 1, 1, shift.shape[1]]))
        return attention(conv2(norm2.normalizedSiLU(h), adding: x))
    }
}

func emit(_ name: String, seconds: Double, flops: Double, backend: String) {
    let line: [String: Any] = [
        "name": name, "threads": Parallelism.threadCount, "backend": backend,
        "median_ms": (seconds * 1e6).rounded() / 1e3, "gflops": flops > 0 ? (flops / seconds / 1e7).rounded() / 100 : NSNull(),
    ]
    let json = try! JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
    FileHandle.standardOutput.write(json + Data("\n".utf8))
}

func caseName(_ c: [String: Any]) -> String {
    let op = c["op"] as! String
    let keys = c.keys.filter { $0 != "op" }.sorted()
    return op + " " + keys.map { "\($0)=\(c[$0]!)" }.joined(separator: " ")
}

for c in cases {
    let name = caseName(c)
    if let filter = options.filter, !name.contains(filter) { continue }
    func int(_ key: String) -> Int { (c[key] as! NSNumber).intValue }
    let backward = (c["pass"] as? String) == "backward"
    switch c["op"] as! String {
    case "conv":
        let (n, h, w, ch, k, r) = (int("n"), int("h"), int("w"), int("c"), int("k"), int("kernel"))
        let x = random([n, h, w, ch]), weights = random([k, r, r, ch]), bias = random([k])
        let flops = 2.0 * Double(n * h * w * k * ch * r * r)
        let winograd = r == 3 && ch % 8 == 0 && k % 8 == 0 && ch >= 32 && k >= 32
        if backward {
            let g = random([n, h, w, k])
            // Backward-data + backward-weights: forward-and-pullback minus the same forward alone.
            func backwardSeconds() -> Double {
                let t = measure {
                    _ = valueWithPullback(at: [x, weights, bias]) { p in Tensor.conv2d(p[0], weights: p[1], bias: p[2], padding: r / 2) }.pullback(g)
                }
                return t - measure { _ = Tensor.conv2d(x, weights: weights, bias: bias, padding: r / 2) }
            }
            emit(name, seconds: backwardSeconds(), flops: 2 * flops, backend: winograd ? "winograd-f4x4" : "onednn")
            if winograd && !options.skipAlternatives {
                emit(name + " direct", seconds: withConvolutionAlgorithm(.direct) { backwardSeconds() }, flops: 2 * flops, backend: "onednn")
            }
        } else {
            emit(name, seconds: measure { _ = Tensor.conv2d(x, weights: weights, bias: bias, padding: r / 2) }, flops: flops,
                 backend: winograd ? "winograd-f4x4" : "onednn")
            if winograd && !options.skipAlternatives {   // the direct path beside it, for the record
                emit(name + " direct", seconds: withConvolutionAlgorithm(.direct) { measure { _ = Tensor.conv2d(x, weights: weights, bias: bias, padding: r / 2) } },
                     flops: flops, backend: "onednn")
            }
        }
    case "gemm":
        let (m, n, k) = (int("m"), int("n"), int("k"))
        let a = random([m, k]), b = random([k, n])
        emit(name, seconds: measure { _ = Tensor.matmul(a, b) }, flops: 2.0 * Double(m * n * k), backend: "onednn")
        // OpenBLAS beside it, for the record (the engine's products default to oneDNN's sgemm).
        if !options.skipAlternatives {
            MatrixMultiplicationBackend.current = .openblas
            emit(name + " openblas", seconds: measure { _ = Tensor.matmul(a, b) }, flops: 2.0 * Double(m * n * k), backend: "openblas")
            MatrixMultiplicationBackend.current = .onednn
        }
    case "groupnorm":
        // "activation": "silu" times GroupNorm → SiLU (fused here, two ops in PyTorch).
        let (n, h, w, ch, groups) = (int("n"), int("h"), int("w"), int("c"), int("groups"))
        let silu = (c["activation"] as? String) == "silu"
        let x = random([n, h, w, ch]), gamma = random([ch]), beta = random([ch])
        func normalize(_ x: Tensor, _ gamma: Tensor, _ beta: Tensor, fused: Bool) -> Tensor {
            if !silu { return x.groupNormalized(groups: groups, scale: gamma, offset: beta) }
            return fused ? x.groupNormalizedSiLU(groups: groups, scale: gamma, offset: beta)
                : x.groupNormalized(groups: groups, scale: gamma, offset: beta).silu()
        }
        let g = random([n, h, w, ch])
        func seconds(fused: Bool) -> Double {
            let forward = measure { _ = normalize(x, gamma, beta, fused: fused) }
            if !backward { return forward }
            return measure { _ = valueWithPullback(at: [x, gamma, beta]) { p in normalize(p[0], p[1], p[2], fused: fused) }.pullback(g) } - forward
        }
        emit(name, seconds: seconds(fused: true), flops: 0, backend: "swift")
        if silu && !options.skipAlternatives {   // the two separate operations beside it, for the record
            emit(name + " unfused", seconds: seconds(fused: false), flops: 0, backend: "swift")
        }
    case "attention":
        let (n, tokens, ch) = (int("n"), int("tokens"), int("c"))
        let x = random([n, tokens, ch])
        emit(name, seconds: measure { _ = Tensor.attention(query: x, key: x, value: x) }, flops: 4.0 * Double(n * tokens * tokens * ch), backend: "onednn+swift")
    case "resblock":
        let (n, h, w, ch) = (int("n"), int("h"), int("w"), int("c"))
        let block = ResidualBlock(channels: ch, embedding: 128, generator: &generator)
        let x = random([n, h, w, ch]), e = random([n, 128])
        if backward {
            let t = measure { _ = valueAndGradient(model: block) { m in m(x, e).squared().mean() } }
            emit(name + " (forward+backward)", seconds: t, flops: 0, backend: "engine")
        } else {
            emit(name, seconds: measure { withoutGradients { _ = block(x, e) } }, flops: 0, backend: "engine")
        }
    default:
        FileHandle.standardError.write(Data("diffsr-bench: unknown op in \(name)\n".utf8))
    }
}
