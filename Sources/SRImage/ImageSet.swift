import Foundation

/// Image files given as one file or a folder (PNG/JPEG, not recursive), keyed by file stem: the
/// unit that `diffsr evaluate` and `diffsr benchmark` pair SR, HR and LR images by.
public struct ImageSet: Sendable {
    /// The file or folder the set was read from.
    public let root: String
    /// Stem → path.
    public let files: [String: String]

    /// Lists the PNG/JPEG files of a folder, or takes one file. `role` names the set in errors
    /// ("HR", "LR", …).
    public init(path: String, role: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageSetError("\(role) path \(path) does not exist")
        }
        root = path
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter(ImageFormat.isImagePath).sorted()
            var files: [String: String] = [:]
            for name in names {
                let stem = ImageSet.stem(name)
                if let existing = files[stem] {
                    throw ImageSetError("\(role) folder \(path) has two images with stem '\(stem)': \(existing) and \(name)")
                }
                files[stem] = path + "/" + name
            }
            if files.isEmpty { throw ImageSetError("\(role) folder \(path) holds no PNG or JPEG images") }
            self.files = files
        } else {
            files = [ImageSet.stem(path): path]
        }
    }

    /// Whether the set was made from one file (not a folder).
    public var isSingleFile: Bool { files.count == 1 && files.values.first == root }

    /// The file name without folder and extension.
    public static func stem(_ path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    /// Pairs `self` with `other` by stem: two single files pair regardless of names; folders must
    /// hold exactly the same stems, and every unpaired file is named in the error.
    public func paired(with other: ImageSet, selfRole: String, otherRole: String) throws -> [(name: String, mine: String, theirs: String)] {
        if isSingleFile && other.isSingleFile {
            let (stem, path) = files.first!
            return [(stem, path, other.files.values.first!)]
        }
        let onlyMine = Set(files.keys).subtracting(other.files.keys).sorted()
        let onlyTheirs = Set(other.files.keys).subtracting(files.keys).sorted()
        if !onlyMine.isEmpty || !onlyTheirs.isEmpty {
            var parts: [String] = []
            if !onlyMine.isEmpty { parts.append("\(selfRole) without \(otherRole): \(onlyMine.map { files[$0]! }.joined(separator: ", "))") }
            if !onlyTheirs.isEmpty { parts.append("\(otherRole) without \(selfRole): \(onlyTheirs.map { other.files[$0]! }.joined(separator: ", "))") }
            throw ImageSetError("unpaired images (paired by file stem): " + parts.joined(separator: "; "))
        }
        return files.keys.sorted().map { ($0, files[$0]!, other.files[$0]!) }
    }
}

/// A missing path, an empty folder, a stem clash or unpaired images, described in one line.
public struct ImageSetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
