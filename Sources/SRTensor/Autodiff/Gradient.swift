import Foundation

/// The value of `f` at `x` and the gradient of its sum with respect to `x`.
///
/// `f` should return a scalar (a loss); for a non-scalar result the gradient is that of the sum of
/// its elements (a seed of ones), as `torch.autograd.grad(out.sum(), x)` would give.
public func valueAndGradient(at x: Tensor, of f: (Tensor) throws -> Tensor) rethrows -> (value: Tensor, gradient: Tensor) {
    let (value, gradients) = try valueAndGradient(at: [x]) { try f($0[0]) }
    return (value, gradients[0])
}

/// The value of `f` at `xs` and the gradients of its sum with respect to each of `xs`.
public func valueAndGradient(at xs: [Tensor], of f: ([Tensor]) throws -> Tensor) rethrows -> (value: Tensor, gradients: [Tensor]) {
    let (value, pullback) = try valueWithPullback(at: xs, of: f)
    return (value, pullback(Tensor.ones(value.shape)))
}

/// The value of `f` at `xs` and its pullback: given a cotangent `v` shaped like the value, the
/// vector–Jacobian products vᵀ·∂f/∂xᵢ (PyTorch's `autograd.grad(out, xs, grad_outputs=v)`).
public func valueWithPullback(at xs: [Tensor], of f: ([Tensor]) throws -> Tensor) rethrows
    -> (value: Tensor, pullback: (Tensor) -> [Tensor]) {
    try GradientMode.$isRecording.withValue(true) {
        let leaves = xs.map { x -> Tensor in
            var leaf = x.detached
            leaf.node = GradientNode(inputs: [], shape: x.shape, pullback: nil)
            return leaf
        }
        let value = try f(leaves)
        let pullback: (Tensor) -> [Tensor] = { seed in
            precondition(seed.shape == value.shape, "cotangent shape \(seed.shape) for a value of shape \(value.shape)")
            let gradients = backpropagate(from: value, to: leaves.map { $0.node! }, seed: seed)
            return zip(gradients, xs).map { $0 ?? Tensor.zeros($1.shape) }
        }
        return (value.detached, pullback)
    }
}

/// Gradients of `seed · output` (the sum of `output` when no seed is given) for each of `targets`
/// (nil where `output` does not depend on it).
func backpropagate(from output: Tensor, to targets: [GradientNode], seed: Tensor? = nil) -> [Tensor?] {
    guard let root = output.node else { return targets.map { _ in nil } }
    // Collect the graph reachable from the output.
    var nodes: [Int: GradientNode] = [:]
    var stack = [root]
    while let node = stack.popLast() {
        if nodes[node.id] != nil { continue }
        nodes[node.id] = node
        stack.append(contentsOf: node.inputs)
    }
    var gradients: [Int: Tensor] = [root.id: seed?.detached ?? Tensor.ones(output.shape)]
    let wanted = Set(targets.map(\.id))
    for id in nodes.keys.sorted(by: >) {
        let node = nodes[id]!
        guard let pullback = node.pullback, let gradient = gradients[id] else { continue }
        if !wanted.contains(id) { gradients[id] = nil }   // free intermediate gradients early
        let inputGradients = withoutGradients { pullback(gradient) }
        for (input, g) in zip(node.inputs, inputGradients) {
            precondition(g.shape == input.shape, "gradient shape \(g.shape) for an input of shape \(input.shape)")
            if let existing = gradients[input.id] {
                gradients[input.id] = withoutGradients { existing + g }
            } else {
                gradients[input.id] = g
            }
        }
    }
    return targets.map { gradients[$0.id] }
}
