import Foundation

/// The pristine-image model of NIQE: the mean (36) and covariance (36×36) of the natural-scene
/// features of pristine images, and the 7×7 Gaussian window used to normalize local contrast.
///
/// Source: `basicsr/metrics/niqe_pris_params.npz` of the `basicsr` 1.4.2 sdist on PyPI (converted
/// by BasicSR from the official MATLAB release's `modelparameters.mat`). The file is not committed;
/// `make niqe-params` fetches it into `.cache/niqe/` (see the README).
public struct NIQEParameters: Sendable, Equatable {
    public var mean: [Double]
    public var covariance: [Double]
    public var window: [Double]
    public var windowSize: Int

    /// Reads the parameters from a `niqe_pris_params.npz`.
    public init(contentsOfFile path: String) throws {
        let archive = try NumpyArchive(path: path)
        guard let mu = archive.arrays["mu_pris_param"], let cov = archive.arrays["cov_pris_param"],
              let window = archive.arrays["gaussian_window"] else {
            throw MetricError.parameters("\(path): missing mu_pris_param, cov_pris_param or gaussian_window")
        }
        let n = mu.values.count
        guard n == 36, cov.values.count == n * n else {
            throw MetricError.parameters("\(path): expected 36 features and a 36x36 covariance, got \(n) and \(cov.values.count)")
        }
        let size = Int(Double(window.values.count).squareRoot())
        guard size * size == window.values.count, size % 2 == 1 else {
            throw MetricError.parameters("\(path): the Gaussian window is not square and odd (\(window.shape))")
        }
        self.mean = mu.values
        self.covariance = cov.values
        self.window = window.values
        self.windowSize = size
    }

    /// The environment variable that names the parameter file.
    public static let environmentVariable = "DIFFSR_NIQE_PARAMS"

    /// Where the parameters are looked for, in order: `$DIFFSR_NIQE_PARAMS`, `.cache/niqe/` under
    /// the current folder, and `.cache/niqe/` of the source tree the executable was built in.
    public static func searchPaths(executablePath: String = CommandLine.arguments.first ?? "") -> [String] {
        var paths: [String] = []
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty { paths.append(env) }
        let file = ".cache/niqe/niqe_pris_params.npz"
        paths.append(FileManager.default.currentDirectoryPath + "/" + file)
        // <repo>/.build/<config>/diffsr → <repo>/.cache/niqe/...
        var url = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            url = url.deletingLastPathComponent()
            paths.append(url.path + "/" + file)
        }
        return paths
    }

    /// Loads the parameters from the first existing search path.
    /// - Throws: `MetricError.parameters` listing the places looked at when none exists.
    public static func locate() throws -> NIQEParameters {
        let paths = searchPaths()
        for path in paths where FileManager.default.fileExists(atPath: path) {
            return try NIQEParameters(contentsOfFile: path)
        }
        throw MetricError.parameters(
            "NIQE needs niqe_pris_params.npz (run `make niqe-params`, or set \(environmentVariable)); looked in: "
                + paths.joined(separator: ", "))
    }
}
