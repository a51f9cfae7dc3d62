import Foundation
import SRSupport
import SRTensor

/// A safetensors file (the Hugging Face format): an 8-byte little-endian header length, a JSON
/// header `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}` and
/// the tensor bytes.
///
/// Reading memory-maps the file and validates the whole header before any tensor is used, as
/// strictly as the reference implementation: header length within the file (and ≤ 100 MB), valid
/// UTF-8 JSON object, known dtype, non-negative shape, `shape × dtype size == end − begin`, and
/// offsets that tile the data section exactly (in range, no overlap, no gap, nothing after).
/// Supported dtypes: F32, F16, BF16 (converted to Float32).
public struct SafeTensorsFile: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        /// Byte range inside the data section.
        public var range: Range<Int>
    }

    public let path: String
    public let metadata: [String: String]
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    /// The tensor names, sorted.
    public var keys: [String] { entries.keys.sorted() }

    public init(contentsOfFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CheckpointError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: path) ? "I/O error or permission denied" : "no such file")
        }
        try self.init(data: data, path: path)
    }

    public init(data: Data, path: String = "<memory>") throws {
        func invalid(_ reason: String) -> CheckpointError { .invalidHeader(path: path, reason: reason) }
        guard data.count >= 8 else { throw invalid("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= 100_000_000 else { throw invalid("header length \(headerLength) exceeds 100 MB") }
        guard headerLength <= UInt64(data.count - 8) else {
            throw invalid("header length \(headerLength) exceeds the file size \(data.count)")
        }
        let headerBytes = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard let text = String(data: headerBytes, encoding: .utf8) else { throw invalid("header is not UTF-8") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), let header = object as? [String: Any] else {
            throw invalid("header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let fields = value as? [String: Any] else { throw invalid("__metadata__ is not an object") }
                for (k, v) in fields {
                    guard let s = v as? String else { throw invalid("__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let fields = value as? [String: Any] else { throw invalid("entry \(key) is not an object") }
            guard let dtypeName = fields["dtype"] as? String else { throw invalid("entry \(key) has no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError.unsupportedDType(path: path, key: key, dtype: dtypeName)
            }
            guard let shapeValues = fields["shape"] as? [NSNumber], let offsets = fields["data_offsets"] as? [NSNumber], offsets.count == 2 else {
                throw invalid("entry \(key) needs shape and data_offsets [begin, end]")
            }
            let shape = shapeValues.map(\.intValue)
            guard shape.allSatisfy({ $0 >= 0 }), shapeValues.allSatisfy({ $0.doubleValue == Double($0.intValue) }) else {
                throw invalid("entry \(key) has an invalid shape \(shapeValues)")
            }
            let begin = offsets[0].intValue, end = offsets[1].intValue
            guard begin >= 0, end >= begin else { throw invalid("entry \(key) has invalid offsets [\(begin), \(end)]") }
            let (elements, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, elements * dtype.size == end - begin else {
                throw invalid("entry \(key): shape \(shape) × \(dtype.size) bytes ≠ \(end - begin) bytes at [\(begin), \(end)]")
            }
            entries[key] = Entry(dtype: dtype, shape: shape, range: begin..<end)
        }
        let dataStart = 8 + Int(headerLength), dataLength = data.count - dataStart
        var position = 0
        for (key, entry) in entries.sorted(by: { ($0.value.range.lowerBound, $0.value.range.upperBound) < ($1.value.range.lowerBound, $1.value.range.upperBound) }) {
            guard entry.range.lowerBound == position else {
                throw invalid(entry.range.lowerBound < position ? "entry \(key) overlaps the previous tensor" : "gap before entry \(key) at byte \(position)")
            }
            position = entry.range.upperBound
        }
        guard position <= dataLength else { throw invalid("tensors end at byte \(position), after the end of the data (\(dataLength) bytes)") }
        guard position == dataLength else { throw invalid("\(dataLength - position) bytes after the last tensor") }
        self.path = path
        self.metadata = metadata
        self.entries = entries
        self.data = data
        self.dataStart = dataStart
    }

    /// One tensor, converted to Float32.
    public func tensor(_ key: String) throws -> Tensor {
        guard let entry = entries[key] else { throw CheckpointError.missingTensor(path: path, key: key) }
        return data.withUnsafeBytes { raw in
            Tensor.filled(shape: entry.shape) { out in
                entry.dtype.decode(raw.baseAddress! + dataStart + entry.range.lowerBound,
                                   count: entry.range.count / entry.dtype.size, into: out)
            }
        }
    }

    /// Every tensor, converted to Float32.
    public func tensors() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for key in entries.keys { result[key] = try tensor(key) }
        return result
    }

    /// The encoded bytes of a safetensors file holding `tensors` as `dtype` (names sorted, data
    /// in that order, as the reference writer does).
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:], dtype: DType = .float32) throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var body: [UInt8] = []
        for key in tensors.keys.sorted() {
            guard key != "__metadata__" else { throw CheckpointError.invalidHeader(path: "<write>", reason: "a tensor cannot be named __metadata__") }
            let tensor = tensors[key]!
            let bytes = tensor.withUnsafeBufferPointer { dtype.encode($0) }
            header[key] = ["dtype": dtype.rawValue, "shape": tensor.shape, "data_offsets": [body.count, body.count + bytes.count]]
            body += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }   // pad with spaces to keep the data 8-byte aligned
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + body.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        out += json
        out += body
        return out
    }

    /// Writes a safetensors file atomically (no partial file is ever left at `path`).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], dtype: DType = .float32, to path: String) throws {
        let bytes = try encode(tensors, metadata: metadata, dtype: dtype)
        do {
            try AtomicFile.write(bytes, to: path)
        } catch let error as AtomicFileError {
            throw CheckpointError.unwritable(path: error.path, reason: error.reason)
        }
    }
}
