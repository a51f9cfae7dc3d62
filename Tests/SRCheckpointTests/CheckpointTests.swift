import Foundation
import Testing
import SRCheckpoint
import SRNN
import SRTensor
import _TestSupport

@Suite("Checkpoints")
struct CheckpointTests {
    struct Expected: Decodable {
        struct Values: Decodable { let shape: [Int]; let values: [Double] }
        let state: [String: Values]
        let lightning: [String: Values]
        let safetensors: [String: Values]
    }

    static let expected: Expected = try! Fixtures.json("checkpoints/checkpoints.json")

    func expectEqual(_ tensor: Tensor?, _ values: Expected.Values, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let tensor else { Issue.record("missing \(name)", sourceLocation: sourceLocation); return }
        #expect(tensor.shape == values.shape, "\(name) shape", sourceLocation: sourceLocation)
        #expect(maxAbsoluteDifference(tensor.scalars, values.values) <= 1e-7 * (values.values.map(abs).max() ?? 1),
                "\(name) values", sourceLocation: sourceLocation)
    }

    @Test("torch.save files (zip and legacy layouts) load every dtype, view and container", .tags(.golden),
          arguments: ["state_zip.pth", "state_legacy.pth"])
    func torchSave(_ file: String) throws {
        let path = Fixtures.path("checkpoints/" + file)
        let tensors = try PyTorchCheckpoint.stateDictionary(contentsOfFile: path)
        for (key, values) in Self.expected.state { expectEqual(tensors[key], values, key) }
        let root = try PyTorchCheckpoint.load(contentsOfFile: path).stringKeyed!
        guard case .dictionary(let nested) = root["nested"]!, case .list(let list) = nested.entries[0].value else {
            Issue.record("nested containers"); return
        }
        #expect(list.items.description == "[1, 2.5, 'text']")
        #expect(nested.entries[1].value.description == "(True, None)")
        guard case .dictionary(let ordered) = root["ordered"]! else { Issue.record("OrderedDict"); return }
        #expect(ordered.entries.map(\.key.description) == ["'b'", "'a'"])   // insertion order kept
    }

    @Test("A Lightning .ckpt yields its state_dict", .tags(.golden))
    func lightning() throws {
        let tensors = try PyTorchCheckpoint.stateDictionary(contentsOfFile: Fixtures.path("checkpoints/lightning.ckpt"))
        #expect(Set(tensors.keys) == Set(Self.expected.lightning.keys))
        for (key, values) in Self.expected.lightning { expectEqual(tensors[key], values, key) }
    }

    @Test("Hostile pickles are refused, naming the global, and nothing runs", arguments: [
        ("hostile.pth", "os.system"), ("hostile.pkl", "os.system"), ("eval.pth", "builtins.eval"),
    ])
    func hostile(_ file: String, _ global: String) {
        let marker = "/tmp/diffsr-pwned"
        try? FileManager.default.removeItem(atPath: marker)
        let path = Fixtures.path("checkpoints/" + file)
        #expect(throws: CheckpointError.forbiddenGlobal(path: path, name: global)) {
            try PyTorchCheckpoint.load(contentsOfFile: path)
        }
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("Garbage and truncated PyTorch files are errors")
    func malformed() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("checkpoints/state_zip.pth")))
        #expect(throws: CheckpointError.self) { try PyTorchCheckpoint.load(data: data.prefix(data.count / 2)) }
        #expect(throws: CheckpointError.self) { try PyTorchCheckpoint.load(data: Data("not a checkpoint".utf8)) }
        let legacy = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("checkpoints/state_legacy.pth")))
        #expect(throws: CheckpointError.self) { try PyTorchCheckpoint.load(data: legacy.prefix(legacy.count - 10)) }
        #expect(throws: CheckpointError.unreadable(path: "/nonexistent.pth", reason: "no such file")) {
            try PyTorchCheckpoint.load(contentsOfFile: "/nonexistent.pth")
        }
    }

    @Test("safetensors written by the reference library read back", .tags(.golden))
    func referenceSafetensors() throws {
        let file = try SafeTensorsFile(contentsOfFile: Fixtures.path("checkpoints/reference.safetensors"))
        #expect(file.metadata == ["format": "pt", "note": "fixture"])
        #expect(file.entries["f16"]?.dtype == .float16 && file.entries["bf16"]?.dtype == .bfloat16)
        for (key, values) in Self.expected.safetensors { expectEqual(try file.tensor(key), values, key) }
    }

    @Test("safetensors round trips in F32, F16 and BF16", arguments: DType.allCases)
    func roundTrip(_ dtype: DType) throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tensors = ["a.weight": testTensor([3, 4], seed: 1, lower: -4, upper: 4), "b": testTensor([5], seed: 2), "empty": Tensor.zeros([0, 2])]
        try SafeTensorsFile.write(tensors, metadata: ["config": "{\"x\": 1}"], dtype: dtype, to: dir + "/m.safetensors")
        let file = try SafeTensorsFile(contentsOfFile: dir + "/m.safetensors")
        #expect(file.metadata == ["config": "{\"x\": 1}"])
        #expect(file.keys == ["a.weight", "b", "empty"])
        let tolerance: Float = dtype == .float32 ? 0 : dtype == .float16 ? 4e-3 : 3e-2
        for (key, tensor) in tensors {
            let back = try file.tensor(key)
            #expect(back.shape == tensor.shape)
            for (x, y) in zip(back.scalars, tensor.scalars) { #expect(Swift.abs(x - y) <= tolerance * Swift.max(1, Swift.abs(y))) }
        }
        #expect(try folderContents(dir) == ["m.safetensors"])
    }

    /// A safetensors file from a header and a data section.
    static func file(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
        var bytes = [UInt8]()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { bytes += $0 }
        return Data(bytes + Array(header.utf8) + data)
    }

    @Test("Malformed safetensors headers are refused with a reason")
    func malformedSafetensors() {
        let four = [UInt8](repeating: 0, count: 4)
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "shorter"),
            (Self.file(header: "{}", declaredLength: 1 << 40), "exceeds"),
            (Self.file(header: "[1, 2]"), "not a JSON object"),
            (Self.file(header: "{not json"), "not a JSON object"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: four), "≠"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}"#, data: four), "≠"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: []), "after the end"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}"#, data: four + four), "overlaps"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: four + four), "gap"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: four + four), "after the last tensor"),
            (Self.file(header: #"{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, data: four), "invalid shape"),
            (Self.file(header: #"{"a": {"shape": [1], "data_offsets": [0, 4]}}"#, data: four), "no dtype"),
            (Self.file(header: #"{"__metadata__": {"k": 1}}"#), "not a string"),
        ]
        for (data, reason) in cases {
            do {
                _ = try SafeTensorsFile(data: data, path: "bad.safetensors")
                Issue.record("accepted a file that should fail with '\(reason)'")
            } catch {
                #expect("\(error)".contains(reason) && "\(error)".hasPrefix("bad.safetensors"), "\(error) (expected \(reason))")
            }
        }
        #expect(throws: CheckpointError.unsupportedDType(path: "bad.safetensors", key: "a", dtype: "I64")) {
            try SafeTensorsFile(data: Self.file(header: #"{"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}"#, data: four + four), path: "bad.safetensors")
        }
    }

    @Test("Loading a checkpoint into a module checks keys and shapes")
    func loadIntoModule() throws {
        struct Generator: RandomNumberGenerator { var s: UInt64 = 3; mutating func next() -> UInt64 { s = s &* 6364136223846793005 &+ 1; return s } }
        var generator = Generator()
        let layer = Conv2D(inputChannels: 3, outputChannels: 4, kernelSize: 3, using: &generator)
        let tensors = try PyTorchCheckpoint.stateDictionary(contentsOfFile: Fixtures.path("checkpoints/lightning.ckpt"))
        // PyTorch's OIHW weights become OHWI at import.
        let converted = ["weight": tensors["model.conv.weight"]!.permuted([0, 2, 3, 1]), "bias": tensors["model.conv.bias"]!]
        try layer.update(parameters: converted)
        #expect(layer.weight.value.shape == [4, 3, 3, 3])
        #expect(throws: ParameterUpdateError.self) { try layer.update(parameters: ["weight": tensors["model.conv.weight"]!]) }
    }
}
