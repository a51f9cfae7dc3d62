import Foundation

/// Runs the `diffsr` executable built beside the tests and captures its output.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public enum CommandRunner {
    /// The `diffsr` binary: `$DIFFSR_BINARY`, else the debug build of this checkout.
    public static var executable: String {
        if let path = ProcessInfo.processInfo.environment["DIFFSR_BINARY"], !path.isEmpty { return path }
        let root = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/diffsr").path
    }

    public static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
        try run(executable: executable, arguments, in: directory, environment: environment)
    }

    /// Runs any executable (e.g. Chromium for the report check) and captures its output.
    public static func run(executable: String, _ arguments: [String], in directory: String? = nil,
                           environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
