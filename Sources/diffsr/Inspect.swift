import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr inspect`: what a checkpoint holds.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a checkpoint's tensors (key, shape, dtype), parameter count and embedded configuration.")

    @Argument(help: "A .safetensors, .pth or .ckpt file.")
    var file: String

    func run() throws {
        try runReportingErrors {
            var rows: [(String, [Int], String)] = []
            var metadata: [String: String] = [:]
            if file.lowercased().hasSuffix(".safetensors") {
                let st = try SafeTensorsFile(contentsOfFile: file)
                rows = st.keys.map { ($0, st.entries[$0]!.shape, st.entries[$0]!.dtype.rawValue) }
                metadata = st.metadata
            } else {
                // Shapes from the pickle alone: no tensor data is read (a released StableSR .ckpt is 6.5 GB).
                let state = try PyTorchStateDictionary(contentsOfFile: file)
                rows = state.keys.map { ($0, state.shapes[$0]!, "pickle") }
            }
            for (key, shape, dtype) in rows {
                print("\(key)\t\(shape.map(String.init).joined(separator: "x"))\t\(dtype)")
            }
            let count = rows.reduce(0) { $0 + $1.1.reduce(1, *) }
            print("\(rows.count) tensors, \(count) parameters")
            for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { print("metadata \(key): \(value)") }
            if let json = metadata[SR3ModelDescription.metadataKey], let description = try? SR3ModelDescription(json: json),
               description.kind == .sr3 {
                print("sampling: " + Self.samplingSummary(description))
            }
            if metadata[ModelFamily.metadataKey] == ModelFamily.stablesr.rawValue {
                let model = try StableSRModel(contentsOfFile: file)
                print("family: StableSR (\(model.configuration.parameterization.rawValue)-prediction), U-Net \(model.unet.parameterCount), time-aware encoder \(model.encoder.parameterCount), autoencoder \(model.firstStage.parameterCount), CFW fusion \(model.cfw.parameterCount - model.firstStage.parameterCount) parameters")
                print("sampling: " + StableSRUpscaler(model: model).summary + (model.defaults == StableSRSettings.Recorded() ? " (the reference's defaults)" : " (recorded in the file where set)"))
            }
        }
    }

    /// "ddim, 1 step, color fix wavelet, aug level 0.0 (recorded: steps, color fix, aug level)".
    static func samplingSummary(_ description: SR3ModelDescription) -> String {
        let effective = description.effectiveSampling, recorded = description.sampling ?? SamplingDefaults()
        var parts = ["\(effective.sampler!.rawValue)", "\(effective.steps!) step\(effective.steps == 1 ? "" : "s")", "color fix \(effective.colorCorrection!.rawValue)"]
        var sources = [recorded.sampler != nil ? "sampler" : nil, recorded.steps != nil ? "steps" : nil,
                       recorded.colorCorrection != nil ? "color fix" : nil].compactMap { $0 }
        if description.unet.conditionAugmentation {
            parts.append("aug level \(description.augmentationLevel ?? 0)")
            if description.augmentationLevel != nil { sources.append("aug level") }
        }
        return parts.joined(separator: ", ") + (sources.isEmpty ? " (the tool's defaults)" : " (recorded: \(sources.joined(separator: ", ")))")
    }
}
