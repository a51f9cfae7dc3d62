import SRNN
import SRTensor

/// What the layers of a latent U-Net block receive besides the feature map: the reference's
/// `TimestepEmbedSequential.forward(x, emb, context, struct_cond)`, which hands each layer the
/// inputs its type takes.
public struct LatentBlockInputs {
    /// `[N, E]`: the timestep embedding (`emb`).
    public var embedding: Tensor
    /// `[N, L, D]`: the cross-attention context (StableSR: the empty prompt's text encoding), or nil
    /// for networks without cross-attention.
    public var context: Tensor?
    /// The structure features of StableSR's time-aware encoder keyed by width (`struct_cond`), each
    /// `[N, h, w, C]`; empty for networks without SFT.
    public var structure: [Int: Tensor]

    public init(embedding: Tensor, context: Tensor? = nil, structure: [Int: Tensor] = [:]) {
        self.embedding = embedding
        self.context = context
        self.structure = structure
    }
}

/// A layer of a latent U-Net block (a child of `LatentBlockSequence`).
protocol LatentLayer {
    /// - Parameter x: `[N, H, W, C]`. - Returns: `[N, H', W', C']`.
    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor
}

extension Conv2D: LatentLayer {
    func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor { self(x) }
}

/// The reference's `TimestepEmbedSequential`: layers applied in order, each with the inputs it
/// takes. Its layers' keys are their indices (`input_blocks.1.0.…`, `input_blocks.1.1.…`).
public final class LatentBlockSequence: Module, @unchecked Sendable {
    let layers: [Module]
    override public var parameterKeys: [String: String] { ["layers": ""] }

    init(_ layers: [Module]) {
        precondition(layers.allSatisfy { $0 is LatentLayer }, "every layer of a latent block must be a LatentLayer")
        self.layers = layers
    }

    /// - Parameter x: `[N, H, W, C]`.
    public func callAsFunction(_ x: Tensor, _ inputs: LatentBlockInputs) -> Tensor {
        layers.reduce(x) { h, layer in (layer as! LatentLayer)(h, inputs) }
    }
}
