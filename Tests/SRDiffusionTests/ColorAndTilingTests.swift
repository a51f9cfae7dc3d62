import Foundation
import Testing
import SRDiffusion
import SRImage
import SRTensor
import _TestSupport

@Suite("Color correction and tiling")
struct ColorAndTilingTests {
    struct Fixture: Decodable { let width: Int; let height: Int; let content: [Float]; let style: [Float]; let adain: [Double]; let wavelet: [Double] }

    @Test("AdaIN and wavelet color fixes match StableSR", .tags(.golden))
    func colorFix() throws {
        let f: Fixture = try Fixtures.json("colorfix.json")
        let content = Image(width: f.width, height: f.height, channels: 3, pixels: f.content)
        let style = Image(width: f.width, height: f.height, channels: 3, pixels: f.style)
        #expect(maxAbsoluteDifference(ColorCorrection.adain.apply(content, reference: style).pixels, f.adain) < 1e-5)
        #expect(maxAbsoluteDifference(ColorCorrection.wavelet.apply(content, reference: style).pixels, f.wavelet) < 1e-5)
        #expect(ColorCorrection.none.apply(content, reference: style) == content)
    }

    @Test("Tile origins cover the image, the last aligned to the border")
    func origins() {
        let tiles = TiledDenoiser(size: 64, overlap: 16)
        #expect(tiles.origins(64) == [0])
        #expect(tiles.origins(40) == [0])
        #expect(tiles.origins(150) == [0, 48, 86])
    }

    @Test("Tiled evaluation of a pointwise model equals the untiled one (no seams)", .tags(.property))
    func tiledEqualsWhole() {
        let input = testTensor([1, 40, 56, 6], seed: 4)
        // A pointwise model that also reads a second tensor at the tile's region (as SR3's condition
        // and StableSR's LR latent are read): tiling must hand it the right region.
        let positions = testTensor([1, 40, 56, 2], seed: 5)
        let model: Denoiser = { x, step in
            (x.sliced(alongAxis: 3, from: 3, count: 3) * 2 - x.sliced(alongAxis: 3, from: 0, count: 3)) * step.noiseLevel
                + positions.cropped(to: step.region).sliced(alongAxis: 3, from: 0, count: 1)
        }
        let step = DenoisingStep(index: 0, stepCount: 1, timestep: 10, alphaCumprod: 0.49,
                                 region: DenoisingStep.Region(y: 0, x: 0, height: 40, width: 56))
        let whole = model(input, step)
        for window in [TiledDenoiser.Window.symmetric, .stableSR] {
            let tiled = TiledDenoiser(size: 24, overlap: 8, window: window)(input, step: step, denoiser: model)
            #expect(relativeError(tiled, whole) < 1e-5)
        }
    }
}
