import Foundation
import Synchronization

/// A node of the reverse-mode graph: which tracked tensors an operation read, and how to turn the
/// gradient of its output into gradients of those inputs.
final class GradientNode: @unchecked Sendable {
    /// Creation order; a node's inputs always have smaller ids, so decreasing ids are a
    /// topological order of the graph.
    let id: Int
    let inputs: [GradientNode]
    /// Maps the output gradient to one gradient per entry of `inputs` (same order).
    let pullback: ((Tensor) -> [Tensor])?
    let shape: [Int]

    private static let counter = Atomic<Int>(0)

    init(inputs: [GradientNode], shape: [Int], pullback: ((Tensor) -> [Tensor])?) {
        id = GradientNode.counter.add(1, ordering: .relaxed).newValue
        self.inputs = inputs
        self.shape = shape
        self.pullback = pullback
    }
}

/// Scoped switches of the autodiff and of layers' behaviour.
public enum GradientMode {
    /// False inside `withoutGradients { }`: operations record nothing.
    @TaskLocal public static var isRecording = true
    /// False inside `withTrainingMode(false) { }`: dropout is the identity, etc.
    @TaskLocal public static var isTraining = true
}

/// Runs `body` without recording gradients (inference, EMA updates, metrics).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientMode.$isRecording.withValue(false, operation: body)
}

/// Runs `body` with training-mode behaviour on (`true`, the default) or off (evaluation).
public func withTrainingMode<R>(_ training: Bool, _ body: () throws -> R) rethrows -> R {
    try GradientMode.$isTraining.withValue(training, operation: body)
}

extension Tensor {
    /// `result` with a gradient node when any of `inputs` is tracked and recording is on.
    ///
    /// `pullback(gradient, needs)` returns one gradient per input; entries whose `needs` flag is
    /// false may be `nil` (and are not computed).
    static func recording(_ result: Tensor, inputs: [Tensor],
                          pullback: @escaping (_ gradient: Tensor, _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        guard GradientMode.isRecording, inputs.contains(where: { $0.node != nil }) else { return result }
        let needs = inputs.map { $0.node != nil }
        let tracked = inputs.compactMap(\.node)
        let node = GradientNode(inputs: tracked, shape: result.shape) { gradient in
            let all = pullback(gradient, needs)
            var out: [Tensor] = []
            for (i, need) in needs.enumerated() where need {
                guard let g = all[i] else { preconditionFailure("pullback returned no gradient for a tracked input") }
                out.append(g)
            }
            return out
        }
        var tracked_ = result
        tracked_.node = node
        return tracked_
    }
}
