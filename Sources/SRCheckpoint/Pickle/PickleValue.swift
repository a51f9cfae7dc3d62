import SRTensor

/// A value built by the restricted unpickler: only data (numbers, strings, containers, tensors),
/// never an arbitrary Python object.
public indirect enum PickleValue: @unchecked Sendable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for Int (LONG1 of more than 8 bytes), as its little-endian bytes.
    case bigInteger([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dictionary(PickleDictionary)
    case tensor(Tensor)
    /// A tensor whose storage has not been read (a deferred load, `PyTorchCheckpoint.lazyStateDictionary`).
    case tensorReference(TensorReference)
    /// A class or function reference that is on the allow-list (e.g. `torch.FloatStorage`).
    case global(module: String, name: String)
    /// A storage reference from a persistent id, resolved when a tensor is rebuilt.
    case storage(StorageReference)
    /// The stack marker of MARK.
    case mark

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "\(i)"
        case .bigInteger(let b): return "<\(b.count)-byte integer>"
        case .float(let d): return "\(d)"
        case .string(let s): return "'\(s)'"
        case .bytes(let b): return "b<\(b.count) bytes>"
        case .tuple(let items): return "(" + items.map(\.description).joined(separator: ", ") + ")"
        case .list(let list): return "[" + list.items.map(\.description).joined(separator: ", ") + "]"
        case .dictionary(let d): return "{" + d.entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .tensor(let t): return "tensor\(t.shape)"
        case .tensorReference(let t): return "tensor\(t.shape) (not loaded)"
        case .global(let m, let n): return "<\(m).\(n)>"
        case .storage(let s): return "<storage \(s.key)>"
        case .mark: return "<mark>"
        }
    }

    /// The dictionary's entries keyed by string (non-string keys are skipped).
    public var stringKeyed: [String: PickleValue]? {
        guard case .dictionary(let d) = self else { return nil }
        var out: [String: PickleValue] = [:]
        for (k, v) in d.entries { if case .string(let s) = k { out[s] = v } }
        return out
    }
}

/// A list built incrementally (APPEND/APPENDS mutate the memoized object).
public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// An insertion-ordered dictionary (Python dicts and OrderedDicts keep order).
public final class PickleDictionary: @unchecked Sendable {
    public var entries: [(key: PickleValue, value: PickleValue)] = []
    func set(_ key: PickleValue, _ value: PickleValue) {
        if case .string(let s) = key, let i = entries.firstIndex(where: { if case .string(let t) = $0.key { return t == s }; return false }) {
            entries[i].value = value
        } else {
            entries.append((key, value))
        }
    }
}

/// A PyTorch storage named by a persistent id: its element type and the archive record holding it.
public struct StorageReference: Sendable {
    public var typeName: String
    public var key: String
    public var elementCount: Int
}

/// A tensor of a checkpoint as its pickle describes it: a view (offset, size, strides, in elements)
/// of a storage, which is read only when the tensor is materialized.
public struct TensorReference: Sendable {
    public var storage: StorageReference
    public var offset: Int
    public var shape: [Int]
    public var strides: [Int]
}
