import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr inspect`: what a checkpoint holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a checkpoint's tensors (key, shape, dtype), parameter count and embedded configuration.")

    @Argument(help: "A .safetensors, .pth or .ckpt file.")
    var file: String

    func run() throws {
        try runReportingErrors {
            var rows: [(String, [Int], String)] = []
            var metadata: [String: String] = [:]
            if file.lowercased().hasSuffix(".safetensors") {
                let st = try SafeTensorsFile(contentsOfFile: file)
                rows = st.keys.map { ($0, st.entries[$0]!.shape, st.entries[$0]!.dtype.rawValue) }
                metadata = st.metadata
            } else {
                let tensors = try PyTorchCheckpoint.stateDictionary(contentsOfFile: file)
                rows = tensors.keys.sorted().map { ($0, tensors[$0]!.shape, "pickle→F32") }
            }
            for (key, shape, dtype) in rows {
                print("\(key)\t\(shape.map(String.init).joined(separator: "x"))\t\(dtype)")
            }
            let count = rows.reduce(0) { $0 + $1.1.reduce(1, *) }
            print("\(rows.count) tensors, \(count) parameters")
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { print("metadata \(key): \(value)") }
        }
    }
}
