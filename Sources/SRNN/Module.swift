import Foundation
import SRTensor

/// A neural-network module: a class whose children (parameters, modules, arrays of modules) are
/// stored properties.
///
/// **Parameter paths.** `namedParameters()` is the one way parameters are enumerated: it walks the
/// stored properties in declaration order with `Mirror`; a `Parameter` property contributes its
/// key, a child module its key as a prefix (`"conv.weight"`), an array of modules its index
/// (`"downs.0.weight"`). A property's key is its Swift name unless `parameterKeys` maps it to
/// another (so paths can equal a reference state dict's keys, e.g. `noiseLevelMLP` →
/// `"noise_level_mlp"`). Optional children contribute when present. A property mapped to the empty
/// key contributes its children at the module's own prefix, so a list of layers held in one
/// property reads as PyTorch's `nn.Sequential` (`input_blocks.1.0.…`, `input_blocks.1.1.…`).
///
/// Mutation goes through `update(parameters:)` (checkpoint loading, optimizers).
open class Module: @unchecked Sendable {
    public init() {}

    /// Swift property name → state-dict key, for properties whose key differs from their name.
    open var parameterKeys: [String: String] { [:] }

    /// Every parameter with its dotted path, in declaration order.
    public func namedParameters() -> [(path: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        collect(prefix: "", into: &result)
        return result
    }

    private func collect(prefix: String, into result: inout [(String, Parameter)]) {
        let keys = parameterKeys
        var mirror: Mirror? = Mirror(reflecting: self)
        var levels: [Mirror] = []
        while let m = mirror { levels.insert(m, at: 0); mirror = m.superclassMirror }
        for level in levels {
            for child in level.children {
                guard let label = child.label else { continue }
                let key = keys[label] ?? label
                // The empty key: the child's own path is the module's (the prefix without its dot).
                Module.visit(child.value, path: key.isEmpty ? String(prefix.dropLast()) : prefix + key, into: &result)
            }
        }
    }

    private static func visit(_ value: Any, path: String, into result: inout [(String, Parameter)]) {
        let childPrefix = path.isEmpty ? "" : path + "."
        switch value {
        case let parameter as Parameter:
            result.append((path, parameter))
        case let module as Module:
            module.collect(prefix: childPrefix, into: &result)
        case let modules as [Module]:
            for (i, module) in modules.enumerated() { module.collect(prefix: "\(childPrefix)\(i).", into: &result) }
        case let optional as Module?:
            if let module = optional { module.collect(prefix: childPrefix, into: &result) }
        case let optional as Parameter?:
            if let parameter = optional { result.append((path, parameter)) }
        default:
            break
        }
    }

    /// Freezes the parameters whose path satisfies `predicate` and makes the others trainable
    /// (StableSR's stage 1: `freeze { !$0.contains("spade") }` on the U-Net). Returns the number of
    /// trainable scalars left.
    @discardableResult
    public func freeze(where predicate: (String) -> Bool) -> Int {
        var trainable = 0
        for (path, parameter) in namedParameters() {
            parameter.isTrainable = !predicate(path)
            if parameter.isTrainable { trainable += parameter.value.count }
        }
        return trainable
    }

    /// The trainable parameters with their paths.
    public func trainableParameters() -> [(path: String, parameter: Parameter)] { namedParameters().filter { $0.parameter.isTrainable } }

    /// The parameters as a dictionary keyed by path.
    public func parameterDictionary() -> [String: Parameter] {
        Dictionary(namedParameters().map { ($0.path, $0.parameter) }, uniquingKeysWith: { first, _ in first })
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }

    /// Drops the kernel layouts cached for the parameters (oneDNN reorders, Winograd-transformed
    /// filters: `DerivedValueCache`), so that the memory serves another model; they are recomputed
    /// on the next use. The values themselves are untouched.
    public func releaseKernelLayouts() {
        for (_, parameter) in namedParameters() { parameter.value.releaseDerivedValues() }
    }

    /// Sets every parameter to zero (PyTorch's `zero_module`, used for layers a reference
    /// initializes at zero).
    public func zeroParameters() {
        for (_, parameter) in namedParameters() { parameter.value = Tensor.zeros(parameter.shape) }
    }

    /// Replaces parameter values by path. Unknown paths, missing paths (when `strict`) and shape
    /// mismatches are all reported at once in one error; nothing is changed when it throws.
    public func update(parameters values: [String: Tensor], strict: Bool = true) throws {
        try Module.update(parameterDictionary(), with: values, strict: strict)
    }

    /// `update(parameters:strict:)` on parameters already collected by `parameterDictionary()`: a
    /// loader that sets a large model a piece at a time walks the module tree once, not once per piece
    /// (per tensor, that walk made loading quadratic in the number of parameters).
    public static func update(_ own: [String: Parameter], with values: [String: Tensor], strict: Bool) throws {
        var problems = ParameterUpdateError(missing: [], unexpected: [], mismatched: [])
        for (path, tensor) in values {
            guard let parameter = own[path] else { problems.unexpected.append(path); continue }
            if parameter.shape != tensor.shape {
                problems.mismatched.append(.init(key: path, expected: parameter.shape, actual: tensor.shape))
            }
        }
        if strict { problems.missing = own.keys.filter { values[$0] == nil }.sorted() }
        problems.unexpected.sort()
        problems.mismatched.sort { $0.key < $1.key }
        if !problems.isEmpty && (strict || !problems.mismatched.isEmpty) { throw problems }
        for (path, tensor) in values { own[path]?.value = tensor.detached }
    }
}

/// What `Module.update(parameters:)` found wrong, all at once.
public struct ParameterUpdateError: Error, Equatable, CustomStringConvertible {
    public struct Mismatch: Equatable, Sendable {
        public var key: String
        public var expected: [Int]
        public var actual: [Int]
        public init(key: String, expected: [Int], actual: [Int]) {
            self.key = key
            self.expected = expected
            self.actual = actual
        }
    }
    public var missing: [String]
    public var unexpected: [String]
    public var mismatched: [Mismatch]

    public init(missing: [String], unexpected: [String], mismatched: [Mismatch]) {
        self.missing = missing
        self.unexpected = unexpected
        self.mismatched = mismatched
    }

    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing keys: " + missing.prefix(10).joined(separator: ", ") + (missing.count > 10 ? " (+\(missing.count - 10) more)" : "")) }
        if !unexpected.isEmpty { parts.append("unexpected keys: " + unexpected.prefix(10).joined(separator: ", ") + (unexpected.count > 10 ? " (+\(unexpected.count - 10) more)" : "")) }
        if !mismatched.isEmpty {
            parts.append("shape mismatches: " + mismatched.prefix(10).map { "\($0.key) expects \($0.expected), got \($0.actual)" }.joined(separator: "; "))
        }
        return parts.joined(separator: "; ")
    }
}

/// The loss of `body(model)` and its gradient with respect to every trainable parameter, keyed by
/// path (frozen parameters take part as constants and get no gradient).
public func valueAndGradient<M: Module>(model: M, _ body: (M) throws -> Tensor) rethrows -> (value: Tensor, gradients: [String: Tensor]) {
    let named = model.trainableParameters()
    let originals = named.map { $0.parameter.value }
    defer { for (entry, original) in zip(named, originals) { entry.parameter.value = original } }
    let (value, gradients) = try valueAndGradient(at: originals) { leaves in
        for (entry, leaf) in zip(named, leaves) { entry.parameter.value = leaf }
        return try body(model)
    }
    var result: [String: Tensor] = [:]
    for (entry, gradient) in zip(named, gradients) { result[entry.path] = gradient }
    return (value, result)
}
