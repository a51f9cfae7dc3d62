import Foundation

/// Errors from reading, writing and validating images. Each names the file it concerns (or
/// `"<memory>"` for in-memory data) and says what is wrong.
public enum ImageError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read (missing, a folder, no permission).
    case unreadable(path: String, reason: String)
    /// The bytes are neither PNG nor JPEG.
    case unsupportedFormat(path: String)
    /// The file ends before the image is complete.
    case truncated(path: String, detail: String)
    /// The decoder rejected the data.
    case corrupt(path: String, detail: String)
    /// Width or height is zero.
    case emptyImage(path: String)
    /// The image is larger than the configured pixel limit (checked before decoding).
    case tooLarge(path: String, width: Int, height: Int, limit: Int)
    /// The output could not be written; nothing is left at the destination.
    case unwritable(path: String, reason: String)
    /// An argument outside its domain (JPEG quality, channel count, …).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): cannot read file (\(reason))"
        case .unsupportedFormat(let path): return "\(path): unsupported image format (expected PNG or JPEG)"
        case .truncated(let path, let detail): return "\(path): truncated image: \(detail)"
        case .corrupt(let path, let detail): return "\(path): corrupt image: \(detail)"
        case .emptyImage(let path): return "\(path): image has zero width or height"
        case .tooLarge(let path, let width, let height, let limit):
            return "\(path): image is \(width)x\(height) = \(width * height) pixels, over the limit of \(limit) pixels"
        case .unwritable(let path, let reason): return "\(path): cannot write file (\(reason))"
        case .invalidArgument(let message): return message
        }
    }

    public var errorDescription: String? { description }
}
