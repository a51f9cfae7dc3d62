import Foundation
import SRSupport

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
        let archive: ZipArchive
        do {
            archive = try ZipArchive(bytes: Data(bytes))
        } catch {
            throw MetricError.parameters("\(name): not a valid .npz archive (\(error))")
        }
        var arrays: [String: Array] = [:]
        for entry in archive.entries {
            let contents: Data
            do { contents = try archive.contents(of: entry) } catch {
                throw MetricError.parameters("\(name): not a valid .npz archive (\(error))")
            }
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            arrays[key] = try NumpyArchive.parseNPY([UInt8](contents), name: "\(name):\(entry.name)")
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
