import Foundation
import Testing
import _TestSupport

@Suite("diffsr bench unet", .tags(.cli))
struct BenchCommandTests {
    @Test(arguments: ["forward", "train"])
    func timesTheUNetOfAReferenceConfig(mode: String) throws {
        let result = try CommandRunner.run(["bench", "unet", "--model-config", Fixtures.path("sr3/tiny_config.json"), "--size", "16",
                                            "--batch", "2", "--mode", mode, "--seconds", "0", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(line["name"] as? String == "unet tiny_config size=16 batch=2 mode=\(mode)")
        #expect(line["parameters"] as? Int == 66907)
        #expect((line["median_ms"] as? Double ?? 0) > 0 && (line["runs"] as? Int ?? 0) >= 5)
    }

    @Test(.tags(.badInput)) func refusesSizesTheUNetCannotTake() throws {
        let result = try CommandRunner.run(["bench", "unet", "--model-config", Fixtures.path("sr3/tiny_config.json"), "--size", "18"])
        #expect(result.status != 0 && result.stderr.contains("multiple of"))
        let missing = try CommandRunner.run(["bench", "unet", "--model-config", "/nonexistent.json"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent.json"))
    }
}
