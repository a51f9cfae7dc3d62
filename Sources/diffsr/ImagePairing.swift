import DiffusionSR
import Foundation

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
