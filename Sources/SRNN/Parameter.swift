import SRTensor

/// A trainable tensor owned by a module. Its value is replaced (never mutated in place) by
/// optimizers and by `Module.update(parameters:)`, so tensors handed out earlier stay valid.
public final class Parameter: @unchecked Sendable {
    /// The current value.
    public internal(set) var value: Tensor

    /// Whether training updates it: `valueAndGradient(model:)` differentiates only trainable
    /// parameters (a frozen one is a constant of the loss, as PyTorch's `requires_grad = False`).
    public var isTrainable = true

    public init(_ value: Tensor) { self.value = value }

    /// The shape of the value.
    public var shape: [Int] { value.shape }
}
