import Foundation
import SRSupport
import SRTensor

/// The state dict of a PyTorch checkpoint read lazily: the pickle is interpreted (by the
/// restricted `Unpickler`, nothing executed) without reading any storage, and a tensor's bytes are
/// read and converted only when it is asked for. A Lightning `.ckpt` that also holds optimizer
/// states (StableSR's released files are mostly Adam moments by size) costs only the tensors taken.
///
/// Zip archives (`torch.save` ≥ 1.6, every current Lightning checkpoint) are read from a
/// memory-mapped file; the legacy stream layout is loaded whole, as `PyTorchCheckpoint.load` does.
public struct PyTorchStateDictionary {
    /// The file read.
    public let path: String
    /// Every tensor's shape, keyed by dotted path (the `state_dict` of a Lightning checkpoint).
    public let shapes: [String: [Int]]
    private let references: [String: TensorReference]
    private let materialized: [String: Tensor]
    private let loadStorage: (StorageReference) throws -> [Float]

    /// Reads the pickle of `path`; `key` picks a top-level entry (default: `state_dict` when present,
    /// else the whole object), nested dictionaries are flattened (`"a.b.weight"`).
    /// - Throws: `CheckpointError` for unreadable, truncated or hostile files.
    public init(contentsOfFile path: String, key: String? = nil) throws {
        self.path = path
        let data = try PyTorchCheckpoint.mappedData(path)
        var root: PickleValue
        if ZipArchive.looksLikeZip(data) {
            (root, loadStorage) = try PyTorchCheckpoint.loadZip(data, path: path, defersTensors: true)
        } else {
            root = try PyTorchCheckpoint.load(data: data, path: path)
            loadStorage = { _ in [] }
        }
        if let key {
            guard let value = root.stringKeyed?[key] else { throw CheckpointError.missingTensor(path: path, key: key) }
            root = value
        } else if let stateDict = root.stringKeyed?["state_dict"], case .dictionary = stateDict {
            root = stateDict
        }
        var references: [String: TensorReference] = [:], materialized: [String: Tensor] = [:]
        Self.flatten(root, prefix: "", references: &references, tensors: &materialized)
        self.references = references
        self.materialized = materialized
        shapes = references.mapValues(\.shape).merging(materialized.mapValues(\.shape)) { a, _ in a }
    }

    static func flatten(_ value: PickleValue, prefix: String, references: inout [String: TensorReference], tensors: inout [String: Tensor]) {
        switch value {
        case .tensor(let t): tensors[prefix] = t
        case .tensorReference(let r): references[prefix] = r
        case .dictionary(let d):
            for (k, v) in d.entries {
                let name: String
                switch k {
                case .string(let s): name = s
                case .int(let i): name = String(i)
                default: continue
                }
                flatten(v, prefix: prefix.isEmpty ? name : prefix + "." + name, references: &references, tensors: &tensors)
            }
        case .list(let list):
            for (i, v) in list.items.enumerated() {
                flatten(v, prefix: prefix.isEmpty ? String(i) : prefix + "." + String(i), references: &references, tensors: &tensors)
            }
        default: break
        }
    }

    /// The keys, sorted.
    public var keys: [String] { shapes.keys.sorted() }

    /// The tensors whose keys start with `prefix` (all by default), read now.
    /// - Throws: `CheckpointError` when a storage is missing or truncated.
    public func tensors(withPrefix prefix: String = "") throws -> [String: Tensor] {
        var cache: [String: [Float]] = [:]
        var out: [String: Tensor] = [:]
        for (key, reference) in references where key.hasPrefix(prefix) {
            let elements: [Float]
            if let cached = cache[reference.storage.key] { elements = cached } else {
                elements = try loadStorage(reference.storage)
                cache[reference.storage.key] = elements
            }
            out[key] = try PyTorchCheckpoint.gather(elements, offset: reference.offset, size: reference.shape, strides: reference.strides, path: path)
        }
        for (key, tensor) in materialized where key.hasPrefix(prefix) { out[key] = tensor }
        return out
    }
}
