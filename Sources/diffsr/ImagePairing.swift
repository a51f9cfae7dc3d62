import DiffusionSR
import Foundation

/// Image files given as one file or a folder, keyed by file stem.
struct ImageSet {
    let root: String
    let files: [String: String]   // stem → path

    /// Lists the PNG/JPEG files of a folder (not recursive), or takes one file.
    init(path: String, role: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("\(role) path \(path) does not exist")
        }
        root = path
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter(ImageFormat.isImagePath).sorted()
            var files: [String: String] = [:]
            for name in names {
                let stem = ImageSet.stem(name)
                if let existing = files[stem] {
                    throw CommandError("\(role) folder \(path) has two images with stem '\(stem)': \(existing) and \(name)")
                }
                files[stem] = path + "/" + name
            }
            if files.isEmpty { throw CommandError("\(role) folder \(path) holds no PNG or JPEG images") }
            self.files = files
        } else {
            files = [ImageSet.stem(path): path]
        }
    }

    var isSingleFile: Bool { files.count == 1 && files.values.first == root }

    static func stem(_ path: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }

    /// Pairs `self` with `other` by stem: two single files pair regardless of names; folders must
    /// hold exactly the same stems, and every unpaired file is named in the error.
    func paired(with other: ImageSet, selfRole: String, otherRole: String) throws -> [(name: String, mine: String, theirs: String)] {
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
            throw CommandError("unpaired images (paired by file stem): " + parts.joined(separator: "; "))
        }
        return files.keys.sorted().map { ($0, files[$0]!, other.files[$0]!) }
    }
}

/// The image files named by command-line inputs: files as given, folders expanded to their PNG/JPEG
/// files (sorted by name). Missing inputs are an error naming them.
func imageFiles(in inputs: [String]) throws -> [String] {
    var files: [String] = []
    for input in inputs {
        if isFolder(input) {
            files += try ImageSet(path: input, role: "input").files.values.sorted()
        } else {
            guard FileManager.default.fileExists(atPath: input) else { throw CommandError("input \(input) does not exist") }
            files.append(input)
        }
    }
    return files
}

/// Whether a path is an existing folder.
func isFolder(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
}

/// An error the CLI reports as one line.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
