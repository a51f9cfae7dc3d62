import ArgumentParser
import DiffusionSR
import Foundation

extension ResizeMethod: ExpressibleByArgument {}

/// `diffsr resize`: resize one image with one of the reference resampling methods.
struct Resize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resize an image with a reference resampling method (MATLAB, Pillow or PyTorch semantics).")

    @Argument(help: "Input image (PNG or JPEG).")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (.png, .jpg or .jpeg). Written atomically.")
    var output: String

    @Option(help: "Scale factor, e.g. 0.25 or 4 (output size follows the method's convention).")
    var scale: Double?

    @Option(help: "Target size WIDTHxHEIGHT, e.g. 640x480.")
    var size: String?

    @Option(help: "Resampling method: \(ResizeMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: ResizeMethod = .matlabBicubic

    @Option(help: "JPEG quality (1-100) when the output is a JPEG.")
    var quality: Int = 95

    @OptionGroup var compute: ComputeOptions

    @Option(help: "Refuse images with more pixels than this (decompression-bomb guard).")
    var pixelLimit: Int = 100_000_000

    func validate() throws {
        if (scale == nil) == (size == nil) { throw ValidationError("give exactly one of --scale or --size") }
        if let scale, !(scale > 0 && scale.isFinite) { throw ValidationError("--scale must be a positive number, got \(scale)") }
        if let size, parseSize(size) == nil { throw ValidationError("--size must be WIDTHxHEIGHT with positive integers, got '\(size)'") }
        if ImageFormat(path: output) == nil { throw ValidationError("--output must end in .png, .jpg or .jpeg, got '\(output)'") }
        if !(1...100).contains(quality) { throw ValidationError("--quality must be in 1...100, got \(quality)") }
    }

    func run() throws {
        compute.apply()
        try runReportingErrors {
            let image = try Image(contentsOfFile: input, options: ImageDecodingOptions(pixelLimit: pixelLimit))
            let result: Image
            if let scale {
                result = image.resized(scale: scale, method: method)
            } else {
                let (w, h) = parseSize(size!)!
                result = image.resized(width: w, height: h, method: method)
            }
            try result.write(toFile: output, jpegQuality: quality)
            printError("\(input) \(image.width)x\(image.height) → \(output) \(result.width)x\(result.height) (\(method.rawValue))")
        }
    }
}

/// Parses `WIDTHxHEIGHT`.
func parseSize(_ text: String) -> (Int, Int)? {
    let parts = text.lowercased().split(separator: "x")
    guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
    return (w, h)
}

/// Runs `body`, turning library errors into one clear line on standard error and exit code 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch is DiffusionSampling.Cancelled {
        printError("interrupted: nothing was written for the image in progress")
        throw ExitCode(130)
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}
