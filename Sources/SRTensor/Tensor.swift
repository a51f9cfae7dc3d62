import Foundation

/// An n-dimensional array of Float32 values, row-major, with copy-on-write storage.
///
/// Layout convention of this project: activations and images are **NHWC**
/// (`[batch, height, width, channels]`); convolution weights are **OHWI**
/// (`[outputChannels, kernelHeight, kernelWidth, inputChannels]`); linear weights are
/// `[outputFeatures, inputFeatures]` as in PyTorch. PyTorch's NCHW/OIHW tensors are converted only
/// when weights are imported.
///
/// A tensor taking part in a gradient computation (`valueAndGradient`) carries a node of the
/// reverse-mode graph; every operation on such tensors records how to propagate gradients back.
public struct Tensor: @unchecked Sendable {
    /// The dimensions, outermost first.
    public let shape: [Int]
    @usableFromInline var storage: TensorStorage
    /// The reverse-mode node, when this tensor is being differentiated.
    var node: GradientNode?

    /// Number of elements.
    @inlinable public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    init(shape: [Int], storage: TensorStorage, node: GradientNode? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// Whether the two tensors are views of the same storage (no copy between them).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }

    /// Drops the values derived from this tensor's contents (kernel layouts of a weight, counted by
    /// `DerivedValueCache`); they are recomputed, and cached again if the budget allows, on next use.
    public func releaseDerivedValues() { storage.invalidateDerivedValues() }

    /// A tensor with the given shape and row-major values.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        let storage = values.withUnsafeBufferPointer { TensorStorage(copying: $0.baseAddress!, count: values.count) }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor with every element set to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) { self.init(shape: [], values: [value]) }

    /// A tensor whose elements are written by `body` into uninitialized memory of `count` floats.
    public static func filled(shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
        body(storage.pointer)
        return Tensor(shape: shape, storage: storage)
    }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The only element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor with \(count) elements (shape \(shape))")
        return storage.pointer[0]
    }

    /// Read-only access to the elements.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Mutable access to the elements; copies the storage first when it is shared. Clears the
    /// tensor's gradient node: a mutated value is a new, untracked value.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage.pointer, count: storage.count)
        } else {
            storage.invalidateDerivedValues()
        }
        node = nil
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The element at a multi-dimensional index (for tests and small tensors).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[flatIndex(index)] }
        set {
            let flat = flatIndex(index)
            withUnsafeMutableBufferPointer { $0[flat] = newValue }
        }
    }

    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shape)")
        var flat = 0
        for (i, dim) in zip(index, shape) {
            precondition(i >= 0 && i < dim, "index \(index) out of range for shape \(shape)")
            flat = flat * dim + i
        }
        return flat
    }

    /// The same values, detached from any gradient computation.
    public var detached: Tensor { Tensor(shape: shape, storage: storage) }

    /// Whether this tensor is tracked by a gradient computation.
    public var isTracked: Bool { node != nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}
