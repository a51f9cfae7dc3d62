import Foundation

/// A read-only view of a zip archive whose entries are stored uncompressed — the layout of NumPy's
/// `.npz` (`np.savez`) and of PyTorch's `torch.save` files. Entries are located through the central
/// directory (zip64 sizes and offsets supported); compressed entries are reported, not inflated.
public struct ZipArchive: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var method: Int
        /// Byte range of the entry's data in the archive.
        public var range: Range<Int>
    }

    /// Why an archive could not be read.
    public struct FormatError: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    public let bytes: Data
    public let entries: [Entry]

    /// Whether `bytes` start like a zip archive (a local file header).
    public static func looksLikeZip(_ bytes: Data) -> Bool {
        bytes.count >= 4 && bytes.prefix(4).elementsEqual([0x50, 0x4B, 0x03, 0x04])
    }

    public init(bytes: Data) throws {
        let count = bytes.count
        func fail(_ reason: String) -> FormatError { FormatError(reason: reason) }
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at + 2 <= count else { throw fail("offset \(at) out of range") }
            return bytes.withUnsafeBytes { Int(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
        }
        func u32(_ at: Int) throws -> Int { try u16(at) | (try u16(at + 2)) << 16 }
        func u64(_ at: Int) throws -> Int { try u32(at) | (try u32(at + 4)) << 32 }
        // The end-of-central-directory record is within the last 64 KiB + 22 bytes.
        var eocd = -1
        var i = count - 22
        while i >= max(0, count - 22 - 65535) {
            if try u32(i) == 0x0605_4B50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record") }
        var entryCount = try u16(eocd + 10)
        var offset = try u32(eocd + 16)
        // zip64: the locator just before the EOCD points at the zip64 EOCD record.
        if (entryCount == 0xFFFF || offset == 0xFFFF_FFFF), eocd >= 20, try u32(eocd - 20) == 0x0706_4B50 {
            let record = try u64(eocd - 20 + 8)
            guard try u32(record) == 0x0606_4B50 else { throw fail("bad zip64 end record") }
            entryCount = try u64(record + 32)
            offset = try u64(record + 48)
        }
        var entries: [Entry] = []
        for _ in 0..<entryCount {
            guard try u32(offset) == 0x0201_4B50 else { throw fail("bad central directory entry at \(offset)") }
            let method = try u16(offset + 10)
            var compressed = try u32(offset + 20)
            var uncompressed = try u32(offset + 24)
            let nameLength = try u16(offset + 28), extraLength = try u16(offset + 30), commentLength = try u16(offset + 32)
            var local = try u32(offset + 42)
            guard offset + 46 + nameLength <= count else { throw fail("entry name out of range") }
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
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
            guard try u32(local) == 0x0403_4B50 else { throw fail("bad local header for \(name)") }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start >= 0, start + compressed <= count else { throw fail("entry \(name) out of range") }
            entries.append(Entry(name: name, method: method, range: start..<(start + compressed)))
            offset += 46 + nameLength + extraLength + commentLength
        }
        self.bytes = bytes
        self.entries = entries
    }

    /// The entry with this exact name.
    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The stored bytes of an entry.
    /// - Throws: `FormatError` when the entry is compressed.
    public func contents(of entry: Entry) throws -> Data {
        guard entry.method == 0 else { throw FormatError(reason: "entry \(entry.name) is compressed (method \(entry.method))") }
        return bytes.subdata(in: entry.range)
    }
}
