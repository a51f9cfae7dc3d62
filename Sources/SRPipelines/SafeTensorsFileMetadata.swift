import Foundation
import SRCheckpoint

/// The family recorded in a safetensors model file (read from its header only).
struct SafeTensorsFileMetadata {
    let family: ModelFamily

    init(path: String) throws {
        let file = try SafeTensorsFile(contentsOfFile: path)
        guard let name = file.metadata[ModelFamily.metadataKey] else { family = .sr3; return }
        guard let family = ModelFamily(rawValue: name) else {
            throw StableSRModel.LoadError("\(path): unknown model family '\(name)' (this diffsr knows \(ModelFamily.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.family = family
    }
}
