import Foundation

/// The offline photo sets (`Datasets/manifest.tsv`, from `shared/data.md`): which file of which
/// Debian package goes into which split, its native size, the fixed test crop and its sha256 prefix.
public struct DatasetManifest: Sendable, Equatable {
    /// One source photo.
    public struct Entry: Sendable, Equatable {
        /// `train`, `train-extra` (train photos used at native size), `val`, `test-photo`, `test-classic`.
        public var split: String
        /// File stem of the prepared images (unique within a split).
        public var name: String
        public var package: String
        /// Absolute path inside the package.
        public var path: String
        public var width: Int
        public var height: Int
        /// Top-left corner of the 512×512 test crop in the ÷2 HR image (test-photo only).
        public var crop: (x: Int, y: Int)?
        /// First 16 hex digits of the file's sha256.
        public var sha256Prefix: String

        public init(split: String, name: String, package: String, path: String, width: Int, height: Int,
                    crop: (x: Int, y: Int)?, sha256Prefix: String) {
            self.split = split
            self.name = name
            self.package = package
            self.path = path
            self.width = width
            self.height = height
            self.crop = crop
            self.sha256Prefix = sha256Prefix
        }

        public static func == (a: Entry, b: Entry) -> Bool {
            a.split == b.split && a.name == b.name && a.package == b.package && a.path == b.path && a.width == b.width
                && a.height == b.height && a.crop?.x == b.crop?.x && a.crop?.y == b.crop?.y && a.sha256Prefix == b.sha256Prefix
        }

        /// The split folder the prepared images go to (`train-extra` photos join `train`).
        public var outputSplit: String { split == "train-extra" ? "train" : split }
    }

    public var entries: [Entry]

    /// Parses the tab-separated manifest (lines starting with `#` are comments).
    public init(text: String, name: String = "manifest") throws {
        var entries: [Entry] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            func fail(_ why: String) -> DatasetError { .manifest("\(name):\(number + 1): \(why)") }
            guard cells.count == 9 else { throw fail("expected 9 tab-separated fields, got \(cells.count)") }
            guard let width = Int(cells[4]), let height = Int(cells[5]), width > 0, height > 0 else { throw fail("bad size") }
            var crop: (Int, Int)? = nil
            if !cells[6].isEmpty || !cells[7].isEmpty {
                guard let x = Int(cells[6]), let y = Int(cells[7]) else { throw fail("bad crop") }
                crop = (x, y)
            }
            guard ["train", "train-extra", "val", "test-photo", "test-classic"].contains(cells[0]) else {
                throw fail("unknown split \(cells[0])")
            }
            entries.append(Entry(split: cells[0], name: cells[1], package: cells[2], path: cells[3], width: width,
                                 height: height, crop: crop, sha256Prefix: cells[8]))
        }
        self.entries = entries
    }

    public init(contentsOfFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.manifest("\(path): cannot read the manifest")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), name: path)
    }
}

/// Errors of data-set preparation.
public enum DatasetError: Error, CustomStringConvertible {
    case manifest(String)
    case source(String)

    public var description: String {
        switch self {
        case .manifest(let m), .source(let m): return m
        }
    }
}
