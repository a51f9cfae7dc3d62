/// Errors of reading and writing checkpoints; each names the file and what is wrong.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    /// The safetensors header is malformed (size, JSON, fields, offsets).
    case invalidHeader(path: String, reason: String)
    case unsupportedDType(path: String, key: String, dtype: String)
    case missingTensor(path: String, key: String)
    /// The pickle stream or zip archive is malformed.
    case invalidPickle(path: String, reason: String)
    /// The pickle names a global that is not on the allow-list (nothing was executed).
    case forbiddenGlobal(path: String, name: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read checkpoint (\(reason))"
        case .invalidHeader(let path, let reason): return "\(path): invalid safetensors file: \(reason)"
        case .unsupportedDType(let path, let key, let dtype): return "\(path): tensor \(key) has unsupported dtype \(dtype)"
        case .missingTensor(let path, let key): return "\(path): no tensor named \(key)"
        case .invalidPickle(let path, let reason): return "\(path): invalid PyTorch checkpoint: \(reason)"
        case .forbiddenGlobal(let path, let name):
            return "\(path): refused to load: the pickle references \(name), which is not a tensor or container type (nothing was executed)"
        case .unwritable(let path, let reason): return "\(path): cannot write checkpoint (\(reason))"
        }
    }
}
