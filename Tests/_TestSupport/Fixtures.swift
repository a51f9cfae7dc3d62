import Foundation
import SRImage

/// Access to the golden files in `Tests/Fixtures` (written by `Tools/golden/make_fixtures.py`).
public enum Fixtures {
    /// The fixtures folder.
    public static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    /// The path of a fixture file.
    public static func path(_ name: String) -> String { directory + "/" + name }

    /// A JSON fixture decoded as `T`.
    public static func json<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// The bytes of a fixture file.
    public static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }
}

/// The largest absolute difference between two equally long arrays.
public func maxAbsoluteDifference(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
    var worst = 0.0
    for i in a.indices { worst = max(worst, abs(Double(a[i]) - b[i])) }
    return worst
}

/// A fresh empty temporary folder (removed by the caller with `FileManager.removeItem`).
public func makeTemporaryDirectory(_ label: String = "diffsr-tests") throws -> String {
    let path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The names of the entries of a folder (sorted).
public func folderContents(_ path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path).sorted()
}

extension Image {
    /// An image from 8-bit levels given as Ints (fixture JSON).
    public init(width: Int, height: Int, channels: Int = 3, intLevels: [Int]) {
        self.init(width: width, height: height, channels: channels, levels: intLevels.map { UInt8($0) })
    }
}
