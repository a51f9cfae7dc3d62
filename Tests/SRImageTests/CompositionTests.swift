import Testing
import SRImage

@Suite("Side-by-side composition", .tags(.property))
struct CompositionTests {
    @Test func placesImagesLeftToRightWithAGap() {
        let left = Image(width: 2, height: 3, channels: 3, repeating: 0.25)
        let right = Image(width: 1, height: 2, channels: 3, repeating: 0.75)
        let both = Image.sideBySide([left, right], gap: 2, background: 1)
        #expect(both.width == 5 && both.height == 3)
        #expect(both[2, 1, 0] == 0.25)
        #expect(both[0, 2, 1] == 1 && both[0, 3, 1] == 1)
        #expect(both[1, 4, 2] == 0.75)
        #expect(both[2, 4, 2] == 1)   // below the shorter image: background
    }
}
