import Foundation
import Testing
import SRCheckpoint
@testable import SRModels
import SRNN
import SRTensor
import _TestSupport

/// StableSR's networks against the reference's own modules at reduced width (fixtures:
/// Tools/golden/make_stablesr_fixtures.py, IceClear/StableSR 398ee93, torch 2.15). The fixture holds
/// no weights: both sides draw them from a seeded `torch.randn` in sorted key order.
@Suite("StableSR networks", .tags(.golden))
struct StableSRNetworkTests {
    struct Values: Decodable {
        let shape: [Int]
        let values: [Float]
        var tensor: Tensor { Tensor(shape: shape, values: values) }
    }
    struct Case: Decodable {
        let seed: UInt64?
        let keys: [String: [Int]]?
        let parameter_count: Int?
        let input: Values?
        let embedding: Values?
        let context: Values?
        let features: [String: Values]?
        let timesteps: [Float]?
        let output: Values?
        var structure: [Int: Tensor] {
            Dictionary(uniqueKeysWithValues: (features ?? [:]).map { (Int($0.key)!, $0.value.tensor) })
        }
    }
    struct Embeddings: Decodable {
        let timesteps: [Float]
        let dim32: Values
        let dim7: Values
    }
    struct AutoencoderCase: Decodable {
        let seed: UInt64
        let config: AutoencoderConfiguration
        let keys: [String: [Int]]
        let parameter_count: Int
        let input, moments, noise, latent: Values
        let features: [Values]
        let decoded: [String: Values]
        var asCase: Case {
            Case(seed: seed, keys: keys, parameter_count: parameter_count, input: nil, embedding: nil, context: nil, features: nil,
                 timesteps: nil, output: nil)
        }
    }
    struct TextCase: Decodable {
        let seed: UInt64
        let keys: [String: [Int]]
        let tokens: [Int]
        let output: Values
        var asCase: Case {
            Case(seed: seed, keys: keys, parameter_count: nil, input: nil, embedding: nil, context: nil, features: nil, timesteps: nil, output: nil)
        }
    }
    struct File: Decodable {
        struct Cases: Decodable {
            let timestep_embedding: Embeddings
            let spade, resblock_dual, resblock_plain, spatial_transformer, attention_block, encoder, unet: Case
            let autoencoder: AutoencoderCase
            let text_context: TextCase
        }
        let cases: Cases
    }
    struct Configurations: Decodable {
        struct Entry: Decodable { let config: LatentUNetConfiguration }
        struct EncoderEntry: Decodable { let config: TimeAwareEncoderConfiguration }
        struct Cases: Decodable { let unet: Entry; let encoder: EncoderEntry }
        let cases: Cases
    }

    static let fixture: File = try! Fixtures.json("stablesr/networks.json")
    static let configurations: Configurations = try! Fixtures.json("stablesr/networks.json")

    /// Fills `module` as the fixture script does: per parameter in sorted path order, torch.randn of
    /// its PyTorch shape from one generator, scaled 1/√fan-in (rank ≥ 2), 1 + 0.1·z (norm scales) or
    /// 0.1·z (biases). Checks the paths and PyTorch shapes against the reference's state dict first.
    static func fill(_ module: Module, _ testCase: Case) throws {
        let named = module.namedParameters().sorted { $0.path < $1.path }
        let expected = try #require(testCase.keys)
        #expect(Set(named.map(\.path)) == Set(expected.keys), "parameter paths differ from the reference's state-dict keys")
        for (path, parameter) in named {
            let torchShape = expected[path] ?? []
            #expect(parameter.shape == PyTorchLayout.importedShape(torchShape), "\(path): \(parameter.shape) vs PyTorch \(torchShape)")
        }
        var generator = TorchGenerator(seed: try #require(testCase.seed))
        var values: [String: Tensor] = [:]
        for (path, parameter) in named {
            let shape = parameter.shape
            let draw = Tensor.randomNormal(shape, order: shape.count == 4 ? .nchw : .natural, using: &generator)
            if shape.count >= 2 {
                values[path] = draw * Float(1 / Double(parameter.value.count / shape[0]).squareRoot())
            } else if path.hasSuffix(".weight") {
                values[path] = draw * 0.1 + 1
            } else {
                values[path] = draw * 0.1
            }
        }
        try module.update(parameters: values)
    }

    static func expectClose(_ actual: Tensor, _ expected: Values, tolerance: Double, _ label: String) {
        #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)")
        guard actual.shape == expected.shape else { return }
        let error = relativeError(actual, expected.tensor)
        #expect(error < tolerance, "\(label): error \(error)")
    }

    @Test("Timestep embedding: cos first, zero column for odd widths")
    func timestepEmbedding() {
        let f = Self.fixture.cases.timestep_embedding
        let t = Tensor(shape: [f.timesteps.count], values: f.timesteps)
        // |t·ω| reaches 999 rad, where one Float32 ulp of the phase is 6e-5.
        Self.expectClose(TimestepEmbedding.sinusoidal(t, dimension: 32), f.dim32, tolerance: 2e-4, "dim 32")
        Self.expectClose(TimestepEmbedding.sinusoidal(t, dimension: 7), f.dim7, tolerance: 2e-4, "dim 7")
    }

    @Test("SPADE: affine GroupNorm modulated by the width-matched feature")
    func spade() throws {
        let f = Self.fixture.cases.spade
        var g = TestGenerator(state: 1)
        let module = SPADE(channels: 64, featureChannels: 32, using: &g)
        try Self.fill(module, f)
        let output = withoutGradients { module(f.input!.tensor, features: f.structure) }
        Self.expectClose(output, f.output!, tolerance: 1e-4, "SPADE")
    }

    @Test("ResBlockDual (1×1 skip, SPADE after the zero-initialized conv)")
    func resBlockDual() throws {
        let f = Self.fixture.cases.resblock_dual
        var g = TestGenerator(state: 2)
        let module = LatentResBlock(inputChannels: 32, outputChannels: 64, embeddingWidth: 128, featureChannels: 32, using: &g)
        try Self.fill(module, f)
        let output = withoutGradients { module(f.input!.tensor, embedding: f.embedding!.tensor, structure: f.structure) }
        Self.expectClose(output, f.output!, tolerance: 1e-4, "ResBlockDual")
    }

    @Test("Plain ResBlock with a width that is not a multiple of 32")
    func resBlockPlain() throws {
        let f = Self.fixture.cases.resblock_plain
        var g = TestGenerator(state: 3)
        let module = LatentResBlock(inputChannels: 32, outputChannels: 48, embeddingWidth: 128, using: &g)
        try Self.fill(module, f)
        let output = withoutGradients { module(f.input!.tensor, embedding: f.embedding!.tensor) }
        Self.expectClose(output, f.output!, tolerance: 1e-4, "ResBlock")
    }

    @Test("SpatialTransformerV2: self-attention, cross-attention to the context, GEGLU")
    func spatialTransformer() throws {
        let f = Self.fixture.cases.spatial_transformer
        var g = TestGenerator(state: 4)
        let module = SpatialTransformer(channels: 64, heads: 4, headWidth: 16, contextWidth: 24, using: &g)
        try Self.fill(module, f)
        let output = withoutGradients { module(f.input!.tensor, context: f.context!.tensor) }
        Self.expectClose(output, f.output!, tolerance: 1e-4, "SpatialTransformerV2")
    }

    @Test("Legacy QKV attention block (4 heads, per-head [q|k|v] layout)")
    func attentionBlock() throws {
        let f = Self.fixture.cases.attention_block
        var g = TestGenerator(state: 5)
        let module = QKVAttentionBlock(channels: 64, heads: 4, using: &g)
        try Self.fill(module, f)
        let output = withoutGradients { module(f.input!.tensor) }
        Self.expectClose(output, f.output!, tolerance: 1e-4, "AttentionBlock")
    }

    @Test("Time-aware encoder and dual-condition U-Net at reduced width")
    func encoderAndUNet() throws {
        let encoderCase = Self.fixture.cases.encoder, unetCase = Self.fixture.cases.unet
        var g = TestGenerator(state: 6)
        let encoder = try TimeAwareEncoder(configuration: Self.configurations.cases.encoder.config, using: &g)
        let unet = try StableSRUNet(configuration: Self.configurations.cases.unet.config, using: &g)
        #expect(encoder.parameterCount == encoderCase.parameter_count)
        #expect(unet.parameterCount == unetCase.parameter_count)
        try Self.fill(encoder, encoderCase)
        try Self.fill(unet, unetCase)
        let timesteps = Tensor(shape: [2], values: encoderCase.timesteps!)
        let features = withoutGradients { encoder(encoderCase.input!.tensor, timesteps: timesteps) }
        #expect(features.keys.sorted() == encoderCase.structure.keys.sorted())
        for (width, expected) in encoderCase.features! {
            Self.expectClose(features[Int(width)!]!, expected, tolerance: 1e-4, "encoder feature \(width)")
        }
        let output = withoutGradients {
            unet(unetCase.input!.tensor, timesteps: timesteps, context: unetCase.context!.tensor, structure: features)
        }
        Self.expectClose(output, unetCase.output!, tolerance: 2e-4, "U-Net")

        // The "w/o time-aware" ablation (time_input false): features no longer depend on the
        // timestep, and equal those of the time-aware encoder at t = 0; the key round-trips.
        var blind = Self.configurations.cases.encoder.config
        blind.timeInput = false
        let decoded = try JSONDecoder().decode(TimeAwareEncoderConfiguration.self, from: JSONEncoder().encode(blind))
        #expect(decoded == blind && !decoded.timeInput)
        #expect(try JSONDecoder().decode(TimeAwareEncoderConfiguration.self, from: JSONEncoder().encode(Self.configurations.cases.encoder.config)).timeInput)
        var g2 = TestGenerator(state: 6)
        let timeless = try TimeAwareEncoder(configuration: blind, using: &g2)
        try Self.fill(timeless, encoderCase)
        let input = encoderCase.input!.tensor, zeros = Tensor.zeros([2])
        let (a, b, atZero) = withoutGradients {
            (timeless(input, timesteps: timesteps), timeless(input, timesteps: Tensor(shape: [2], values: [999, 500])), encoder(input, timesteps: zeros))
        }
        for (width, feature) in a {
            #expect(feature.scalars == b[width]!.scalars && feature.scalars == atZero[width]!.scalars, "feature \(width)")
            #expect(feature.scalars != features[width]!.scalars, "feature \(width) ignores t in the time-aware encoder")
        }
    }

    @Test("KL autoencoder with CFW: encoder moments and features, posterior sample, Decoder_Mix at w = 0, 0.5, 1")
    func autoencoder() throws {
        let f = Self.fixture.cases.autoencoder
        var g = TestGenerator(state: 8)
        let model = try KLAutoencoder(configuration: f.config, fusion: true, using: &g)
        #expect(model.parameterCount == f.parameter_count)
        try Self.fill(model, f.asCase)
        let posterior = withoutGradients { model.encode(f.input.tensor) }
        let channels = f.moments.shape[3] / 2
        Self.expectClose(Tensor.concatenate([posterior.mean, posterior.logVariance!], alongAxis: 3), f.moments, tolerance: 1e-4, "moments")
        #expect(posterior.features.count == f.features.count)
        for (actual, expected) in zip(posterior.features, f.features) { Self.expectClose(actual, expected, tolerance: 1e-4, "feature") }
        #expect(channels == f.config.embedDim)
        let latent = posterior.sample(noise: f.noise.tensor)
        Self.expectClose(latent, f.latent, tolerance: 1e-4, "posterior sample")
        for (weight, expected) in f.decoded {
            let decoded = withoutGradients { model.decode(f.latent.tensor, features: posterior.features, fusionWeight: Float(weight)!) }
            Self.expectClose(decoded, expected, tolerance: 2e-4, "decoded at w = \(weight)")
        }
        // The plain decoder (w = 0) ignores the features entirely.
        let plain = withoutGradients { model.decode(f.latent.tensor) }
        Self.expectClose(plain, f.decoded["0.0"]!, tolerance: 2e-4, "plain decoder")
    }

    @Test("Text context: the empty prompt through OpenCLIP's text transformer to the penultimate layer")
    func textContext() throws {
        let f = Self.fixture.cases.text_context
        let encoder = OpenCLIPTextEncoder(configuration: OpenCLIPTextConfiguration(vocabularySize: 49408, contextLength: 77, width: 128,
                                                                                   layers: 3, embedDim: 32))
        try Self.fill(encoder, f.asCase)
        #expect(encoder.emptyPromptTokens == f.tokens)
        Self.expectClose(encoder.emptyPromptContext(), f.output, tolerance: 1e-4, "context")
        // From a state dict as a checkpoint holds it: the shape is read from the weights.
        let state = Dictionary(uniqueKeysWithValues: encoder.namedParameters().map { ("cond_stage_model.model." + $0.path, $0.parameter.value) })
        let loaded = try OpenCLIPTextEncoder(stateDictionary: state)
        #expect(loaded.configuration == encoder.configuration)
        Self.expectClose(loaded.emptyPromptContext(), f.output, tolerance: 1e-4, "context of the loaded encoder")
        var incomplete = state
        incomplete["cond_stage_model.model.ln_final.weight"] = nil
        #expect(throws: ParameterUpdateError.self) { try OpenCLIPTextEncoder(stateDictionary: incomplete) }
        #expect(throws: LatentModelConfigurationError.self) { try OpenCLIPTextEncoder(stateDictionary: state, prefix: "model.") }
    }

    @Test("Full-width StableSR configurations: the released parameter counts")
    func releasedParameterCounts() throws {
        // Counts from shared/reference/stablesr.md §8.1 (instantiated from the reference configs).
        var g = TestGenerator(state: 7)
        let encoder = try TimeAwareEncoder(configuration: .stableSR, using: &g)
        #expect(encoder.parameterCount == 52_494_080)
        let vae = try KLAutoencoder(configuration: .stableDiffusion, fusion: true, using: &g)
        // 34,163,664 encoder + quant_conv, 93,883,907 Decoder_Mix, 20 post_quant_conv.
        #expect(vae.parameterCount == 34_163_664 + 93_883_907 + 20)
    }

    @Test("Unsupported or inconsistent U-Net configurations are refused with the key named")
    func badConfigurations() throws {
        let base = #"{"in_channels": 4, "out_channels": 4, "model_channels": 32, "num_res_blocks": 1, "attention_resolutions": [1], "channel_mult": [1, 2], "num_head_channels": 16, "context_dim": 32, "semb_channels": 32"#
        let decoder = JSONDecoder()
        #expect(throws: LatentModelConfigurationError.self) {
            try decoder.decode(LatentUNetConfiguration.self, from: Data((base + #", "use_scale_shift_norm": true}"#).utf8))
        }
        #expect(throws: LatentModelConfigurationError.self) {
            try decoder.decode(LatentUNetConfiguration.self, from: Data((base + #", "use_linear_in_transformer": false}"#).utf8))
        }
        #expect(throws: LatentModelConfigurationError.self) {
            try decoder.decode(LatentUNetConfiguration.self, from: Data(base.replacingOccurrences(of: "\"model_channels\": 32", with: "\"model_channels\": 40").appending("}").utf8))
        }
        let parsed = try decoder.decode(LatentUNetConfiguration.self, from: Data((base + "}").utf8))
        #expect(parsed.numResBlocks == [1, 1])
        #expect(parsed.legacy)
    }

    /// The 512 model's configuration in the reference YAML's style (YAML 1.1 booleans, `~`, comments).
    static let releasedYAML = """
    sf: 4
    model:
      target: ldm.models.diffusion.ddpm.LatentDiffusionSRTextWT
      params:
        # parameterization: "v"
        linear_start: 0.00085
        linear_end: 0.0120
        timesteps: 1000
        scale_factor: 0.18215
        use_ema: False
        p2_gamma: ~
        unet_config:
          target: ldm.modules.diffusionmodules.openaimodel.UNetModelDualcondV2
          params:
            image_size: 32 # unused
            in_channels: 4
            out_channels: 4
            model_channels: 320
            attention_resolutions: [ 4, 2, 1 ]
            num_res_blocks: 2
            channel_mult: [ 1, 2, 4, 4 ]
            num_head_channels: 64
            use_spatial_transformer: True
            use_linear_in_transformer: True
            transformer_depth: 1
            context_dim: 1024
            use_checkpoint: False
            legacy: False
            semb_channels: 256
        first_stage_config:
          target: ldm.models.autoencoder.AutoencoderKL
          params:
            embed_dim: 4
            monitor: val/rec_loss
            ddconfig:
              double_z: true
              z_channels: 4
              resolution: 512
              in_channels: 3
              out_ch: 3
              ch: 128
              ch_mult:
              - 1
              - 2
              - 4
              - 4
              num_res_blocks: 2
              attn_resolutions: []
              dropout: 0.0
            lossconfig:
              target: torch.nn.Identity
        structcond_stage_config:
          target: ldm.modules.diffusionmodules.openaimodel.EncoderUNetModelWT
          params:
            image_size: 96
            in_channels: 4
            model_channels: 256
            out_channels: 256
            num_res_blocks: 2
            attention_resolutions: [ 4, 2, 1 ]
            dropout: 0
            channel_mult: [ 1, 1, 2, 2 ]
            conv_resample: True
            dims: 2
            use_checkpoint: False
            use_fp16: False
            num_heads: 4
            num_head_channels: -1
            num_heads_upsample: -1
            use_scale_shift_norm: False
            resblock_updown: False
            use_new_attention_order: False
    """

    @Test("Reference YAML configurations: the released 512 model, the v variant, the reduced fixture")
    func yamlConfigurations() throws {
        #expect(try StableSRConfiguration(yaml: Self.releasedYAML) == .stableSR512)
        let velocity = try StableSRConfiguration(yaml: Self.releasedYAML.replacingOccurrences(of: "# parameterization: \"v\"", with: "parameterization: \"v\""))
        #expect(velocity.parameterization == .velocity)
        let tiny = try StableSRConfiguration(contentsOfYAMLFile: Fixtures.path("stablesr/tiny.yaml"))
        #expect(tiny.unet == Self.configurations.cases.unet.config)
        #expect(tiny.encoder == Self.configurations.cases.encoder.config)
        #expect(tiny.scaleFactor == 0.18215 && tiny.timesteps == 1000 && tiny.parameterization == .epsilon)
        #expect(tiny.autoencoder == .kl(Self.fixture.cases.autoencoder.config))
        let cfw = try AutoencoderConfiguration(contentsOfCFWYAMLFile: Fixtures.path("stablesr/tiny_cfw.yaml"))
        #expect(cfw == Self.fixture.cases.autoencoder.config)
    }

    @Test("Bad YAML configurations name what is wrong", .tags(.badInput))
    func badYAML() throws {
        func message(_ yaml: String) -> String {
            do { _ = try StableSRConfiguration(yaml: yaml); return "" } catch { return "\(error)" }
        }
        #expect(message("model: {params: {}}").contains("unet_config is missing"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "UNetModelDualcondV2", with: "UNetModel")).contains("expected …UNetModelDualcondV2"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "semb_channels: 256", with: "semb_channels: 128")).contains("semb_channels"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "        context_dim: 1024\n", with: "")).contains("context_dim is missing"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "resblock_updown: False", with: "resblock_updown: True")).contains("resblock_updown"))
        #expect(message("model: [1, 2").contains("YAML"))
        #expect(message("sf: 4").contains("model.params"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "embed_dim: 4", with: "embed_dim: 8")).contains("embed_dim"))
        #expect(message(Self.releasedYAML.replacingOccurrences(of: "          ch: 128\n", with: "")).contains("ch is missing"))
        #expect(throws: LatentModelConfigurationError.self) { try AutoencoderConfiguration(cfwYAML: "model: {target: x.AutoencoderKL, params: {}}") }
        #expect(throws: LatentModelConfigurationError.self) { try StableSRConfiguration(contentsOfYAMLFile: "/nonexistent/x.yaml") }
    }
}
