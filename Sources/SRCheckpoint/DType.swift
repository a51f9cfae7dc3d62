import Foundation

/// Element types of stored tensors. Values are always converted to Float32 in memory.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float32 = "F32", float16 = "F16", bfloat16 = "BF16"

    /// Bytes per element.
    public var size: Int { self == .float32 ? 4 : 2 }

    /// Decodes `count` little-endian elements at `source` into Float32.
    func decode(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32:
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case .float16:
            for i in 0..<count {
                destination[i] = Float(Float16(bitPattern: UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        case .bfloat16:
            for i in 0..<count {
                let bits = UInt32(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16
                destination[i] = Float(bitPattern: bits)
            }
        }
    }

    /// Encodes Float32 values as little-endian bytes of this type (round to nearest even).
    func encode(_ values: UnsafeBufferPointer<Float>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: values.count * size)
        out.withUnsafeMutableBytes { raw in
            switch self {
            case .float32:
                for (i, v) in values.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
            case .float16:
                for (i, v) in values.enumerated() { raw.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            case .bfloat16:
                for (i, v) in values.enumerated() {
                    let bits = v.bitPattern
                    let rounded: UInt32
                    if v.isNaN {
                        rounded = (bits | 0x0040_0000) >> 16   // keep it a (quiet) NaN
                    } else {
                        rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
                    }
                    raw.storeBytes(of: UInt16(truncatingIfNeeded: rounded).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
                }
            }
        }
        return out
    }
}
