import Foundation
import SRTensor

/// The cases of `engine.json` (Tools/golden/make_engine_fixtures.py): tensors as {shape, values}.
public struct EngineFixture: @unchecked Sendable {
    public let fields: [String: Any]

    public static func load(_ name: String) -> EngineFixture {
        let data = try! Data(contentsOf: URL(fileURLWithPath: Fixtures.path("engine.json")))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        let cases = root["cases"] as! [String: Any]
        return EngineFixture(fields: cases[name] as! [String: Any])
    }

    public init(fields: [String: Any]) { self.fields = fields }

    public func tensor(_ key: String) -> Tensor { EngineFixture.tensor(fields[key] as! [String: Any]) }
    public func int(_ key: String) -> Int { (fields[key] as! NSNumber).intValue }
    public func nested(_ key: String) -> [String: Any] { fields[key] as! [String: Any] }

    public static func tensor(_ entry: [String: Any]) -> Tensor {
        let shape = (entry["shape"] as! [NSNumber]).map(\.intValue)
        let values = (entry["values"] as! [NSNumber]).map(\.floatValue)
        return Tensor(shape: shape, values: values)
    }
}

/// max |a − b| / (1 + |b|) over all elements (shapes must match).
public func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    var worst = 0.0
    let x = a.scalars, y = b.scalars
    for i in x.indices { worst = Swift.max(worst, Swift.abs(Double(x[i]) - Double(y[i])) / (1 + Swift.abs(Double(y[i])))) }
    return worst
}
