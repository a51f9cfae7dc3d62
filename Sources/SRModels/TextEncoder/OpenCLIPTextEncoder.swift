import Foundation
import SRCheckpoint
import SRNN
import SRTensor

/// The shape of an OpenCLIP text transformer, read from its weights.
public struct OpenCLIPTextConfiguration: Codable, Equatable, Sendable {
    public var vocabularySize: Int
    public var contextLength: Int
    public var width: Int
    public var layers: Int
    /// Heads: width / 64, as OpenCLIP's configurations have it (ViT-H-14: 1024 / 16).
    public var heads: Int { width / 64 }
    /// The projection width of `text_projection` (unused by StableSR).
    public var embedDim: Int
}

/// A token embedding table (`nn.Embedding`, key `weight`).
public final class TokenEmbedding: Module, @unchecked Sendable {
    let weight: Parameter

    init(vocabularySize: Int, width: Int) { weight = Parameter(Tensor.zeros([vocabularySize, width])) }

    /// - Parameter tokens: token ids per batch element. - Returns: `[N, L, width]`.
    func callAsFunction(_ tokens: [[Int]]) -> Tensor {
        let (vocabulary, width) = (weight.shape[0], weight.shape[1])
        let length = tokens.first?.count ?? 0
        precondition(tokens.allSatisfy { $0.count == length && $0.allSatisfy { (0..<vocabulary).contains($0) } },
                     "token ids must be in 0..<\(vocabulary), the same number per sequence")
        let table = weight.value
        return Tensor.filled(shape: [tokens.count, length, width]) { out in
            table.withUnsafeBufferPointer { rows in
                for (n, sequence) in tokens.enumerated() {
                    for (i, token) in sequence.enumerated() {
                        (out + (n * length + i) * width).update(from: rows.baseAddress! + token * width, count: width)
                    }
                }
            }
        }
    }
}

/// `nn.MultiheadAttention` as OpenCLIP's text transformer uses it (self-attention, packed
/// `in_proj_weight` `[3W, W]` and `in_proj_bias` for q, k, v, `out_proj`), with an additive
/// attention mask.
public final class PackedMultiheadAttention: Module, @unchecked Sendable {
    let inProjWeight: Parameter
    let inProjBias: Parameter
    let outProj: Linear
    let heads: Int
    override public var parameterKeys: [String: String] { ["inProjWeight": "in_proj_weight", "inProjBias": "in_proj_bias", "outProj": "out_proj"] }

    init<G: RandomNumberGenerator>(width: Int, heads: Int, using generator: inout G) {
        inProjWeight = Parameter(Tensor.zeros([3 * width, width]))
        inProjBias = Parameter(Tensor.zeros([3 * width]))
        outProj = Linear(inputFeatures: width, outputFeatures: width, using: &generator)
        self.heads = heads
    }

    /// - Parameters:
    ///   - x: `[N, L, W]`.
    ///   - mask: `[L, L]`, added to the scores (0 where attention is allowed, a large negative value
    ///     where not).
    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        let (n, length, width) = (x.shape[0], x.shape[1], x.shape[2])
        let d = width / heads
        let projected = Tensor.matmul(x, inProjWeight.value, transposeB: true) + inProjBias.value
        func split(_ part: Int) -> Tensor {
            projected.sliced(alongAxis: 2, from: part * width, count: width)
                .reshaped(to: [n, length, heads, d]).permuted([0, 2, 1, 3]).reshaped(to: [n * heads, length, d])
        }
        var scores = Tensor.matmul(split(0), split(1), transposeB: true) * (1 / Float(d).squareRoot())
        if let mask { scores = scores + mask }
        let attended = Tensor.matmul(scores.softmax(), split(2))
        return outProj(attended.reshaped(to: [n, heads, length, d]).permuted([0, 2, 1, 3]).reshaped(to: [n, length, width]))
    }
}

/// OpenCLIP's text `ResidualAttentionBlock`: x + attn(ln_1(x)), then x + mlp(ln_2(x)) with
/// mlp = `c_fc` → GELU (exact) → `c_proj`.
public final class TextResidualBlock: Module, @unchecked Sendable {
    let ln1: LayerNorm
    let attn: PackedMultiheadAttention
    let ln2: LayerNorm
    let cFC: Linear
    let cProj: Linear
    override public var parameterKeys: [String: String] { ["ln1": "ln_1", "ln2": "ln_2", "cFC": "mlp.c_fc", "cProj": "mlp.c_proj"] }

    init<G: RandomNumberGenerator>(width: Int, heads: Int, using generator: inout G) {
        ln1 = LayerNorm(features: width)
        attn = PackedMultiheadAttention(width: width, heads: heads, using: &generator)
        ln2 = LayerNorm(features: width)
        cFC = Linear(inputFeatures: width, outputFeatures: 4 * width, using: &generator)
        cProj = Linear(inputFeatures: 4 * width, outputFeatures: width, using: &generator)
    }

    func callAsFunction(_ x: Tensor, mask: Tensor?) -> Tensor {
        let h = x + attn(ln1(x), mask: mask)
        return h + cProj(cFC(ln2(h)).gelu())
    }
}

/// The `resblocks` holder (`transformer.resblocks.<i>`).
public final class TextTransformerStack: Module, @unchecked Sendable {
    let resblocks: [TextResidualBlock]
    init(_ blocks: [TextResidualBlock]) { resblocks = blocks }
}

/// StableSR's text conditioning: the OpenCLIP text transformer (`FrozenOpenCLIPEmbedder`, ViT-H-14's
/// text tower in the released model), run to its penultimate layer, then `ln_final`.
///
/// StableSR only ever encodes the empty prompt, so the cross-attention context is a constant of the
/// checkpoint: `emptyPromptContext()` computes it once (at conversion) from the checkpoint's own
/// `cond_stage_model.model.*` weights, with no tokenizer and no download.
///
/// Keys (after `cond_stage_model.model.`): `token_embedding.weight`, `positional_embedding`,
/// `transformer.resblocks.<i>.{ln_1, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj, ln_2,
/// mlp.c_fc, mlp.c_proj}`, `ln_final`, `text_projection`, `logit_scale` (the last two are loaded but
/// unused, as in the reference). Matches: `FrozenOpenCLIPEmbedder.encode_with_transformer` with
/// layer "penultimate" (IceClear/StableSR 398ee93) on open_clip 2.0.2's CLIP: causal mask, exact
/// GELU, LayerNorm eps 1e-5.
public final class OpenCLIPTextEncoder: Module, @unchecked Sendable {
    public let configuration: OpenCLIPTextConfiguration
    let tokenEmbedding: TokenEmbedding
    let positionalEmbedding: Parameter
    let transformer: TextTransformerStack
    let lnFinal: LayerNorm
    let textProjection: Parameter
    let logitScale: Parameter
    override public var parameterKeys: [String: String] {
        ["tokenEmbedding": "token_embedding", "positionalEmbedding": "positional_embedding", "lnFinal": "ln_final",
         "textProjection": "text_projection", "logitScale": "logit_scale"]
    }

    /// OpenCLIP's start- and end-of-text tokens; the empty prompt is [start, end, 0, …, 0].
    public static let startOfText = 49406, endOfText = 49407

    /// Built with zero weights, to be loaded (`init(stateDictionary:prefix:)`).
    public init(configuration c: OpenCLIPTextConfiguration) {
        configuration = c
        var generator = WeightsToBeLoaded()
        tokenEmbedding = TokenEmbedding(vocabularySize: c.vocabularySize, width: c.width)
        positionalEmbedding = Parameter(Tensor.zeros([c.contextLength, c.width]))
        transformer = TextTransformerStack((0..<c.layers).map { _ in TextResidualBlock(width: c.width, heads: c.heads, using: &generator) })
        lnFinal = LayerNorm(features: c.width)
        textProjection = Parameter(Tensor.zeros([c.width, c.embedDim]))
        logitScale = Parameter(Tensor.zeros([]))
    }

    /// The text encoder of a state dict (keys under `prefix`), its shape read from the weights.
    /// - Throws: `ParameterUpdateError` when keys are missing or shapes disagree,
    ///   `LatentModelConfigurationError` when there is no text encoder under `prefix`.
    public convenience init(stateDictionary state: [String: Tensor], prefix: String = "cond_stage_model.model.") throws {
        guard let positions = state[prefix + "positional_embedding"], positions.rank == 2,
              let table = state[prefix + "token_embedding.weight"], table.rank == 2,
              let projection = state[prefix + "text_projection"], projection.rank == 2 else {
            throw LatentModelConfigurationError("no OpenCLIP text encoder under \(prefix) (token_embedding, positional_embedding, text_projection)")
        }
        let blockPrefix = prefix + "transformer.resblocks."
        let layers = Set(state.keys.compactMap { key -> Int? in
            guard key.hasPrefix(blockPrefix) else { return nil }
            return Int(key.dropFirst(blockPrefix.count).prefix { $0 != "." })
        }).count
        guard layers >= 2, positions.shape[1] % 64 == 0 else {
            throw LatentModelConfigurationError("the text encoder under \(prefix) has \(layers) layers of width \(positions.shape[1]) (need ≥ 2 layers, width a multiple of 64)")
        }
        self.init(configuration: OpenCLIPTextConfiguration(vocabularySize: table.shape[0], contextLength: positions.shape[0],
                                                           width: positions.shape[1], layers: layers, embedDim: projection.shape[1]))
        let own = PyTorchLayout.importedStateDictionary(state, prefix: prefix)
        try update(parameters: own)
    }

    /// The context of token sequences through the first `layers − skippedLayers` blocks and `ln_final`.
    /// - Parameters:
    ///   - tokens: per batch element, `contextLength` token ids.
    ///   - skippedLayers: 1 for "penultimate" (StableSR), 0 for "last".
    /// - Returns: `[N, contextLength, width]`.
    public func encode(tokens: [[Int]], skippedLayers: Int = 1) -> Tensor {
        let c = configuration
        precondition(tokens.allSatisfy { $0.count == c.contextLength }, "each token sequence must have \(c.contextLength) ids")
        precondition((0..<c.layers).contains(skippedLayers), "skippedLayers must be in 0..<\(c.layers)")
        let causal = Tensor(shape: [c.contextLength, c.contextLength], values: (0..<c.contextLength * c.contextLength).map { i in
            i % c.contextLength > i / c.contextLength ? -1e9 : 0
        })
        var x = tokenEmbedding(tokens) + positionalEmbedding.value
        for block in transformer.resblocks.prefix(c.layers - skippedLayers) { x = block(x, mask: causal) }
        return lnFinal(x)
    }

    /// The empty prompt's tokens: start, end, then zeros to the context length (`open_clip.tokenize("")`).
    public var emptyPromptTokens: [Int] {
        [Self.startOfText, Self.endOfText] + Array(repeating: 0, count: configuration.contextLength - 2)
    }

    /// StableSR's constant cross-attention context: the empty prompt through the penultimate layer.
    /// - Returns: `[1, contextLength, width]`.
    public func emptyPromptContext() -> Tensor {
        withoutGradients { encode(tokens: [emptyPromptTokens], skippedLayers: 1) }
    }
}
