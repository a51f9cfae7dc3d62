import Foundation
import SRDiffusion

/// Finds shipped models by name (`--model regression-x4`): `<name>.safetensors` in
/// `$DIFFSR_MODELS`, `Models/` of the current folder, or `Models/` of the checkout the executable
/// was built in. Any other value is taken as a path.
public enum ModelLocator {
    public static let environmentVariable = "DIFFSR_MODELS"

    public static func searchFolders(executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
        var folders: [String] = []
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { folders.append(env) }
        folders.append(FileManager.default.currentDirectoryPath + "/Models")
        var url = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            url = url.deletingLastPathComponent()
            folders.append(url.path + "/Models")
        }
        return folders
    }

    /// What `default` names: the shipped SR3 model, else the Regression model.
    public static let defaultModels = ["sr3-x4", "regression-x4"]

    /// The file for `nameOrPath`: an existing path as is, else a shipped model's file, else the ×4
    /// model of a family (`sr3plus` → `sr3plus-x4`); `default` is the first shipped model of
    /// `defaultModels`.
    public static func resolve(_ nameOrPath: String) -> String? {
        if nameOrPath == "default" { return defaultModels.lazy.compactMap(resolve).first }
        if FileManager.default.fileExists(atPath: nameOrPath) { return nameOrPath }
        if nameOrPath.contains("/") || nameOrPath.contains(".") { return nil }
        for folder in searchFolders() {
            let path = folder + "/" + nameOrPath + ".safetensors"
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nameOrPath.contains("-x") ? nil : resolve(nameOrPath + "-x4")
    }

    /// Names of the shipped models found.
    public static func available() -> [String] {
        var names = Set<String>()
        for folder in searchFolders() {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where file.hasSuffix(".safetensors") {
                names.insert(String(file.dropLast(".safetensors".count)))
            }
        }
        return names.sorted()
    }
}
