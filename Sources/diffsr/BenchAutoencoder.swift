import ArgumentParser
import DiffusionSR
import Foundation

/// `diffsr bench autoencoder`: the tiny autoencoder's reconstruction quality and speed on a folder.
struct BenchAutoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Encode and decode every image of a folder with the tiny autoencoder (TAEF2): PSNR of the reconstruction and seconds.",
        discussion: """
            Each image is cropped at the bottom and right to a multiple of 8, encoded and decoded (w = 0, no CFW),
            clamped and quantized to 8 bits; PSNR is over RGB and over Y (BT.601, no border shaved). Times are for
            the first pass of each image (the first image also pays the kernels' set-up).
            """)

    @Argument(help: "A folder of images (e.g. data/test-photo/HR).")
    var folder: String

    @Option(help: "TAESD encoder state dict (default: Models/taef2/taef2_encoder.pth).")
    var encoder: String?

    @Option(help: "TAESD decoder state dict (default: Models/taef2/taef2_decoder.pth).")
    var decoder: String?

    @Option(help: "Write the reconstructions to this folder.")
    var output: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        try runReportingErrors {
            func shipped(_ name: String) throws -> String {
                for folder in ModelLocator.searchFolders() where FileManager.default.fileExists(atPath: folder + "/taef2/" + name) {
                    return folder + "/taef2/" + name
                }
                throw ValidationError("Models/taef2/\(name) not found (run from the checkout, or pass --encoder / --decoder)")
            }
            var generator = SplitMix(state: 0)
            let model = try TinyAutoencoder(configuration: .taef2, fusion: false, using: &generator)
            try model.loadPyTorch(encoder: try encoder ?? shipped("taef2_encoder.pth"), decoder: try decoder ?? shipped("taef2_decoder.pth"))
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter(ImageFormat.isImagePath).sorted()
            guard !names.isEmpty else { throw ValidationError("\(folder): no images") }
            if let output { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
            var sums = (rgb: 0.0, y: 0.0, encode: 0.0, decode: 0.0)
            print("image\tsize\tPSNR-RGB\tPSNR-Y\tencode s\tdecode s")
            for name in names {
                let full = try Image(contentsOfFile: folder + "/" + name)
                let image = full.cropped(x: 0, y: 0, width: full.width - full.width % 8, height: full.height - full.height % 8)
                let input = Tensor(shape: [1, image.height, image.width, 3], values: image.pixels.map { $0 * 2 - 1 })
                let start = Date()
                let latent = withoutGradients { model.encode(input).mean }
                let encoded = Date()
                let decoded = withoutGradients { model.decode(latent) }
                let done = Date()
                let result = Image(signedTensor: decoded).quantized()
                let rgb = try PSNR(channel: .rgb)(result, reference: image), y = try PSNR(channel: .y)(result, reference: image)
                let times = (encoded.timeIntervalSince(start), done.timeIntervalSince(encoded))
                sums = (sums.rgb + rgb, sums.y + y, sums.encode + times.0, sums.decode + times.1)
                print(String(format: "%@\t%dx%d\t%.2f\t%.2f\t%.2f\t%.2f", name, image.width, image.height, rgb, y, times.0, times.1))
                if let output { try result.write(toFile: output + "/" + (name as NSString).deletingPathExtension + ".png") }
                if Interrupt.requested { throw ExitCode(130) }
            }
            let n = Double(names.count)
            print(String(format: "mean\t\t%.2f\t%.2f\t%.2f\t%.2f", sums.rgb / n, sums.y / n, sums.encode / n, sums.decode / n))
        }
    }
}
