import Foundation
import SRSupport
import SRTensor

/// Reads PyTorch checkpoints without Python and without executing anything.
///
/// Two layouts: the zip archive of `torch.save` (≥ 1.6: `<name>/data.pkl`, `<name>/data/<key>`),
/// and the legacy stream (`_use_new_zipfile_serialization=False`, older Lightning `.ckpt`):
/// magic number, protocol, system info, the object pickle, the storage keys, then each storage's
/// element count and bytes. The pickle goes through `Unpickler`, which builds only data and
/// refuses every global that is not a tensor or container type.
///
/// Storages of type float32/64, float16, bfloat16, int8/16/32/64, uint8 and bool become Float32
/// tensors (with their sizes, strides and offsets applied).
public enum PyTorchCheckpoint {
    /// The unpickled object of a checkpoint file.
    public static func load(contentsOfFile path: String) throws -> PickleValue {
        try load(data: try mappedData(path), path: path)
    }

    public static func load(data: Data, path: String = "<memory>") throws -> PickleValue {
        if ZipArchive.looksLikeZip(data) { return try loadZip(data, path: path, defersTensors: false).value }
        return try loadLegacy([UInt8](data), path: path)
    }

    /// The file's bytes, memory-mapped.
    static func mappedData(_ path: String) throws -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw CheckpointError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "I/O error or permission denied" : "no such file")
        }
    }

    /// The tensors of a checkpoint keyed by dotted path. A top-level `state_dict` (Lightning),
    /// when present, is used; nested dictionaries are flattened (`"a.b.weight"`). Only the tensors
    /// of that dictionary are read (`PyTorchStateDictionary`).
    public static func stateDictionary(contentsOfFile path: String, key: String? = nil) throws -> [String: Tensor] {
        try PyTorchStateDictionary(contentsOfFile: path, key: key).tensors()
    }

    // MARK: - Layouts

    /// The object pickle of a zip checkpoint and the reader of its storages. With `defersTensors`
    /// tensors stay `.tensorReference` and no storage is read while unpickling.
    static func loadZip(_ data: Data, path: String, defersTensors: Bool) throws
        -> (value: PickleValue, loadStorage: (StorageReference) throws -> [Float]) {
        let archive: ZipArchive
        do { archive = try ZipArchive(bytes: data) } catch { throw CheckpointError.invalidPickle(path: path, reason: "\(error)") }
        guard let pickle = archive.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CheckpointError.invalidPickle(path: path, reason: "the zip archive has no data.pkl")
        }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = archive.entry(named: prefix + "byteorder"), let text = try? archive.contents(of: order),
           String(decoding: text, as: UTF8.self) != "little" {
            throw CheckpointError.invalidPickle(path: path, reason: "big-endian checkpoints are not supported")
        }
        let bytes: Data
        do { bytes = try archive.contents(of: pickle) } catch { throw CheckpointError.invalidPickle(path: path, reason: "\(error)") }
        let loadStorage = { (storage: StorageReference) throws -> [Float] in
            guard let entry = archive.entry(named: prefix + "data/" + storage.key) else {
                throw CheckpointError.invalidPickle(path: path, reason: "storage \(storage.key) is missing from the archive")
            }
            let raw: Data
            do { raw = try archive.contents(of: entry) } catch { throw CheckpointError.invalidPickle(path: path, reason: "\(error)") }
            return try decode(raw, typeName: storage.typeName, count: storage.elementCount, path: path)
        }
        var unpickler = Unpickler(bytes: [UInt8](bytes), path: path, loadStorage: loadStorage)
        unpickler.defersTensors = defersTensors
        return (try unpickler.load().value, loadStorage)
    }

    /// The magic number that opens a legacy checkpoint, as the little-endian bytes of its LONG1.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    private static func loadLegacy(_ bytes: [UInt8], path: String) throws -> PickleValue {
        func invalid(_ reason: String) -> CheckpointError { .invalidPickle(path: path, reason: reason) }
        guard let first = bytes.first, first == 0x80 || first == 0x63 || first == 0x28 else {
            throw invalid("neither a zip archive nor a pickle stream")
        }
        var skipper = Unpickler(bytes: bytes, path: path) { _ in throw invalid("a storage outside the object pickle") }
        let magic = try skipper.load(from: 0)
        guard case .bigInteger(let digits) = magic.value, digits == legacyMagic else {
            throw invalid("a bare pickle, not a PyTorch checkpoint (no magic number)")
        }
        var position = try skipper.load(from: magic.end).end      // protocol version
        position = try skipper.load(from: position).end           // system info
        // First pass: the storage types by key, and where the object pickle ends.
        var types: [String: String] = [:]
        var measuring = Unpickler(bytes: bytes, path: path) { storage in
            types[storage.key] = storage.typeName
            return [Float](repeating: 0, count: storage.elementCount)
        }
        let objectEnd = try measuring.load(from: position).end
        let keys = try skipper.load(from: objectEnd)
        guard case .list(let keyList) = keys.value else { throw invalid("missing storage key list") }
        var storages: [String: [Float]] = [:]
        position = keys.end
        for key in keyList.items {
            guard case .string(let k) = key else { throw invalid("bad storage key \(key)") }
            guard let typeName = types[k], let size = elementSize(typeName) else { throw invalid("storage \(k) has no known type") }
            guard position + 8 <= bytes.count else { throw invalid("storage \(k) is truncated") }
            var count = 0
            for i in 0..<8 { count |= Int(bytes[position + i]) << (8 * i) }
            let start = position + 8, end = start + count * size
            guard count >= 0, end <= bytes.count else { throw invalid("storage \(k) is truncated") }
            storages[k] = try decode(Data(bytes[start..<end]), typeName: typeName, count: count, path: path)
            position = end
        }
        var unpickler = Unpickler(bytes: bytes, path: path) { storage in
            guard let elements = storages[storage.key] else { throw invalid("storage \(storage.key) is missing") }
            return elements
        }
        return try unpickler.load(from: objectStart(bytes: bytes, path: path)).value
    }

    /// Where the object pickle of a legacy checkpoint starts (after three header pickles).
    private static func objectStart(bytes: [UInt8], path: String) throws -> Int {
        var skipper = Unpickler(bytes: bytes, path: path) { _ in [] }
        var position = 0
        for _ in 0..<3 { position = try skipper.load(from: position).end }
        return position
    }

    // MARK: - Storage decoding

    /// Bytes per element and decoder of each PyTorch storage type.
    static func elementSize(_ typeName: String) -> Int? {
        switch typeName {
        case "FloatStorage", "IntStorage": return 4
        case "DoubleStorage", "LongStorage": return 8
        case "HalfStorage", "BFloat16Storage", "ShortStorage": return 2
        case "ByteStorage", "CharStorage", "BoolStorage": return 1
        default: return nil
        }
    }

    static func decode(_ raw: Data, typeName: String, count: Int, path: String) throws -> [Float] {
        guard let size = elementSize(typeName) else {
            throw CheckpointError.unsupportedDType(path: path, key: "storage", dtype: typeName)
        }
        guard raw.count >= count * size else {
            throw CheckpointError.invalidPickle(path: path, reason: "storage of \(count) \(typeName) elements has only \(raw.count) bytes")
        }
        var out = [Float](repeating: 0, count: count)
        // The floating-point storages share safetensors' decoding.
        let floatTypes: [String: DType] = ["FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16]
        if let dtype = floatTypes[typeName] {
            if count > 0 {
                out.withUnsafeMutableBufferPointer { o in raw.withUnsafeBytes { dtype.decode($0.baseAddress!, count: count, into: o.baseAddress!) } }
            }
            return out
        }
        raw.withUnsafeBytes { p in
            for i in 0..<count {
                let at = i * size
                switch typeName {
                case "DoubleStorage": out[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                case "LongStorage": out[i] = Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                case "IntStorage": out[i] = Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                case "ShortStorage": out[i] = Float(Int16(littleEndian: p.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case "CharStorage": out[i] = Float(p.load(fromByteOffset: at, as: Int8.self))
                default: out[i] = Float(p.load(fromByteOffset: at, as: UInt8.self))   // ByteStorage, BoolStorage
                }
            }
        }
        return out
    }

    /// A contiguous tensor from strided storage elements.
    static func gather(_ elements: [Float], offset: Int, size: [Int], strides: [Int], path: String) throws -> Tensor {
        let count = size.reduce(1, *)
        if count == 0 { return Tensor.zeros(size) }
        var last = offset
        for (d, s) in zip(size, strides) { last += (d - 1) * s }
        guard offset >= 0, last < elements.count, strides.allSatisfy({ $0 >= 0 }) else {
            throw CheckpointError.invalidPickle(path: path, reason: "tensor view \(size)/\(strides)+\(offset) exceeds its storage of \(elements.count)")
        }
        var values = [Float](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: size.count)
        for i in 0..<count {
            var at = offset
            for (k, s) in strides.enumerated() { at += index[k] * s }
            values[i] = elements[at]
            var axis = size.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < size[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: size, values: values)
    }
}
