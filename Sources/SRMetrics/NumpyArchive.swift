import Foundation

/// A reader for NumPy `.npz` archives (a zip of `.npy` files), enough for the NIQE parameters:
/// stored (uncompressed) entries, zip64 sizes, little-endian `f8`/`f4` arrays in C or Fortran order.
/// Limitations: deflated entries (`np.savez_compressed`) and other dtypes are refused with an error.
struct NumpyArchive {
    struct Array: Equatable {
        var shape: [Int]
        var values: [Double]
    }

    var arrays: [String: Array]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MetricError.parameters("\(path): cannot read file")
        }
        try self.init(bytes: [UInt8](data), name: path)
    }

    init(bytes: [UInt8], name: String) throws {
        func fail(_ why: String) -> MetricError { .parameters("\(name): not a valid .npz archive (\(why))") }
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at + 2 <= bytes.count else { throw fail("offset out of range") }
            return Int(bytes[at]) | Int(bytes[at + 1]) << 8
        }
        func u32(_ at: Int) throws -> Int { try u16(at) | (try u16(at + 2)) << 16 }
        func u64(_ at: Int) throws -> Int { try u32(at) | (try u32(at + 4)) << 32 }
        // End of central directory: the last signature 0x06054b50.
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 22 - 65535) {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record") }
        let entries = try u16(eocd + 10)
        var offset = try u32(eocd + 16)
        var arrays: [String: Array] = [:]
        for _ in 0..<entries {
            guard try u32(offset) == 0x02014B50 else { throw fail("bad central directory entry") }
            let method = try u16(offset + 10)
            var compressed = try u32(offset + 20)
            var uncompressed = try u32(offset + 24)
            let nameLength = try u16(offset + 28), extraLength = try u16(offset + 30), commentLength = try u16(offset + 32)
            var local = try u32(offset + 42)
            guard offset + 46 + nameLength <= bytes.count else { throw fail("name out of range") }
            let entryName = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            // zip64 extra field: the 0xFFFFFFFF fields, in order.
            var extra = offset + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try u16(extra), size = try u16(extra + 2)
                if id == 1 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try u64(field); field += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try u64(field); field += 8 }
                    if local == 0xFFFF_FFFF { local = try u64(field) }
                }
                extra += 4 + size
            }
            guard method == 0 else { throw fail("entry \(entryName) is compressed (method \(method))") }
            guard try u32(local) == 0x04034B50 else { throw fail("bad local header for \(entryName)") }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start + compressed <= bytes.count else { throw fail("entry \(entryName) out of range") }
            let key = entryName.hasSuffix(".npy") ? String(entryName.dropLast(4)) : entryName
            arrays[key] = try NumpyArchive.parseNPY(Swift.Array(bytes[start..<(start + compressed)]), name: "\(name):\(entryName)")
            offset += 46 + nameLength + extraLength + commentLength
        }
        self.arrays = arrays
    }

    static func parseNPY(_ bytes: [UInt8], name: String) throws -> Array {
        func fail(_ why: String) -> MetricError { .parameters("\(name): not a valid .npy array (\(why))") }
        guard bytes.count >= 10, bytes[0] == 0x93, Swift.Array(bytes[1...5]) == Swift.Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw fail("short header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("header out of range") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let fortranOrder = header.contains("'fortran_order': True")
        let descr: String
        if header.contains("'descr': '<f8'") { descr = "f8" } else if header.contains("'descr': '<f4'") { descr = "f4" } else {
            throw fail("only little-endian float32/float64 arrays are supported")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape")
        }
        let shape = header[open.upperBound..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        let count = shape.reduce(1, *)
        let dataStart = headerStart + headerLength
        let itemSize = descr == "f8" ? 8 : 4
        guard dataStart + count * itemSize <= bytes.count else { throw fail("data shorter than shape \(shape)") }
        var values = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let at = dataStart + i * itemSize
            if itemSize == 8 {
                var bits: UInt64 = 0
                for b in 0..<8 { bits |= UInt64(bytes[at + b]) << (8 * UInt64(b)) }
                values[i] = Double(bitPattern: bits)
            } else {
                var bits: UInt32 = 0
                for b in 0..<4 { bits |= UInt32(bytes[at + b]) << (8 * UInt32(b)) }
                values[i] = Double(Float(bitPattern: bits))
            }
        }
        if fortranOrder && shape.count > 1 {
            // Reorder column-major data to row-major: the C index of each Fortran-ordered element.
            var reordered = [Double](repeating: 0, count: count)
            var index = [Int](repeating: 0, count: shape.count)
            for value in values {
                var cOffset = 0
                for axis in 0..<shape.count { cOffset = cOffset * shape[axis] + index[axis] }
                reordered[cOffset] = value
                var axis = 0
                while axis < shape.count {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis += 1
                }
            }
            values = reordered
        }
        return Array(shape: shape, values: values)
    }
}
