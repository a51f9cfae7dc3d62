import Testing
import SRNN
import SRTensor
import _TestSupport


final class TinyNet: Module, @unchecked Sendable {
    let noiseLevelMLP: Linear
    let blocks: [Conv2D]
    let head: Conv2D?
    let missing: Conv2D? = nil
    let scale = Parameter(Tensor.ones([1]))
    override var parameterKeys: [String: String] { ["noiseLevelMLP": "noise_level_mlp"] }

    init(generator: inout TestGenerator) {
        noiseLevelMLP = Linear(inputFeatures: 3, outputFeatures: 4, using: &generator)
        blocks = [Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 3, padding: 1, using: &generator),
                  Conv2D(inputChannels: 2, outputChannels: 2, kernelSize: 1, bias: false, using: &generator)]
        head = Conv2D(inputChannels: 2, outputChannels: 1, kernelSize: 1, using: &generator)
    }
}

@Suite("Modules")
struct ModuleTests {
    @Test("Parameter paths follow declaration order, key overrides, arrays and optionals")
    func paths() {
        var generator = TestGenerator(state: 1)
        let net = TinyNet(generator: &generator)
        #expect(net.namedParameters().map(\.path) == [
            "noise_level_mlp.weight", "noise_level_mlp.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
            "head.weight", "head.bias", "scale",
        ])
        #expect(net.parameterCount == 12 + 4 + 36 + 2 + 4 + 2 + 1 + 1)
    }

    @Test("update(parameters:) reports missing, unexpected and mismatched keys at once, changing nothing")
    func updateErrors() throws {
        var generator = TestGenerator(state: 2)
        let net = TinyNet(generator: &generator)
        let before = net.parameterDictionary()["scale"]!.value.scalars
        do {
            try net.update(parameters: ["scale": Tensor.ones([2]), "bogus.weight": Tensor.ones([1])])
            Issue.record("update accepted bad parameters")
        } catch {
            guard let error = error as? ParameterUpdateError else { Issue.record("\(error)"); return }
            #expect(error.unexpected == ["bogus.weight"])
            #expect(error.mismatched == [.init(key: "scale", expected: [1], actual: [2])])
            #expect(error.missing.count == 7)
        }
        #expect(net.parameterDictionary()["scale"]!.value.scalars == before)
        try net.update(parameters: ["scale": Tensor(shape: [1], values: [3])], strict: false)
        #expect(net.parameterDictionary()["scale"]!.value.scalars == [3])
    }

    @Test("Gradients keyed by path equal the functional gradients")
    func modelGradients() {
        var generator = TestGenerator(state: 3)
        let layer = Linear(inputFeatures: 3, outputFeatures: 2, using: &generator)
        let x = testTensor([4, 3], seed: 5)
        let (_, grads) = valueAndGradient(model: layer) { m in m(x).squared().sum() }
        let (_, direct) = valueAndGradient(at: [layer.weight.value, layer.bias!.value]) { p in
            (Tensor.matmul(x, p[0], transposeB: true) + p[1]).squared().sum()
        }
        #expect(relativeError(grads["weight"]!, direct[0]) < 1e-6)
        #expect(relativeError(grads["bias"]!, direct[1]) < 1e-6)
        #expect(!layer.weight.value.isTracked)   // parameters are restored, untracked
    }

    @Test("Adam and AdamW match torch.optim step for step", .tags(.golden), arguments: ["adam", "adamw"])
    func adam(_ name: String) throws {
        let f = EngineFixture.load(name)
        final class Holder: Module, @unchecked Sendable { let p: Parameter; init(_ t: Tensor) { p = Parameter(t) } }
        let holder = Holder(EngineFixture.tensor(f.nested("p0")))
        var optimizer = name == "adam"
            ? Adam(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1)
            : Adam.adamW(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1)
        let grads = (f.fields["grads"] as! [[String: Any]]).map(EngineFixture.tensor)
        let steps = (f.fields["steps"] as! [[String: Any]]).map(EngineFixture.tensor)
        for (g, expected) in zip(grads, steps) {
            optimizer.update(holder, gradients: ["p": g])
            #expect(relativeError(holder.p.value, expected) < 1e-5)
        }
    }

    @Test("Gradient clipping, EMA and schedules")
    func utilities() {
        var grads = ["a": Tensor(shape: [2], values: [3, 4])]
        #expect(abs(clipGradientNorm(&grads, maxNorm: 1) - 5) < 1e-6)
        #expect(abs(grads["a"]!.scalars[0] - 0.6) < 1e-5 && abs(grads["a"]!.scalars[1] - 0.8) < 1e-5)
        var small = ["a": Tensor(shape: [2], values: [0.3, 0.4])]
        clipGradientNorm(&small, maxNorm: 1)
        #expect(small["a"]!.scalars == [0.3, 0.4])

        var generator = TestGenerator(state: 9)
        let layer = Linear(inputFeatures: 2, outputFeatures: 1, bias: false, using: &generator)
        var ema = ExponentialMovingAverage(of: layer, decay: 0.5)
        let start = layer.weight.value.scalars
        try! layer.update(parameters: ["weight": Tensor(shape: [1, 2], values: [1, 1])])
        ema.update(from: layer)
        #expect(ema.shadow["weight"]!.scalars == start.map { 0.5 * $0 + 0.5 })
        var warm = ExponentialMovingAverage(of: layer, decay: 0.999)
        try! layer.update(parameters: ["weight": Tensor(shape: [1, 2], values: [3, 3])])
        warm.update(from: layer, step: 0)   // decay min(0.999, 1/10) = 0.1
        #expect(warm.shadow["weight"]!.scalars.allSatisfy { abs($0 - (0.1 * 1 + 0.9 * 3)) < 1e-6 })
        // A frozen parameter is not averaged: its shadow is its value, bit for bit.
        _ = layer.freeze { _ in true }
        let frozen = Tensor(shape: [1, 2], values: [0.1, 0.7])
        try! layer.update(parameters: ["weight": frozen])
        warm.update(from: layer, step: 500)
        #expect(warm.shadow["weight"]!.scalars == frozen.scalars)

        #expect(LearningRateSchedule.warmup(warmupSteps: 10).rate(at: 5, base: 1) == 0.5)
        #expect(LearningRateSchedule.warmup(warmupSteps: 10).rate(at: 50, base: 1) == 1)
        let cosine = LearningRateSchedule.cosine(warmupSteps: 0, totalSteps: 100, minimumFactor: 0.1)
        #expect(abs(cosine.rate(at: 50, base: 1) - 0.55) < 1e-6 && abs(cosine.rate(at: 100, base: 1) - 0.1) < 1e-6)
    }

    @Test("Smoke training: a few hundred Adam steps on a tiny regression problem reduce the loss")
    func smokeTraining() {
        var generator = TestGenerator(state: 11)
        let first = Conv2D(inputChannels: 3, outputChannels: 8, kernelSize: 3, padding: 1, using: &generator)
        let second = Conv2D(inputChannels: 8, outputChannels: 3, kernelSize: 3, padding: 1, using: &generator)
        final class Net: Module, @unchecked Sendable {
            let a: Conv2D, b: Conv2D
            init(_ a: Conv2D, _ b: Conv2D) { self.a = a; self.b = b }
            func callAsFunction(_ x: Tensor) -> Tensor { x + b(a(x).silu()) }
        }
        let net = Net(first, second)
        let x = testTensor([4, 8, 8, 3], seed: 21)
        let target = x.upsampledNearest(factor: 1).averagePooled(kernel: 2).upsampledNearest(factor: 2)   // a blur to learn
        var optimizer = Adam(learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<300 {
            let (loss, grads) = valueAndGradient(model: net) { m in Tensor.mseLoss(m(x), target) }
            losses.append(loss.scalar)
            optimizer.update(net, gradients: grads)
        }
        #expect(losses.last! < 0.2 * losses.first!, "loss \(losses.first!) → \(losses.last!)")
        #expect(losses.allSatisfy { $0.isFinite })
    }
}

@Suite("Frozen parameters")
struct FrozenParameterTests {
    final class Pair: Module, @unchecked Sendable {
        let first: Linear
        let second: Linear
        override init() {
            var generator = TestGenerator(state: 3)
            first = Linear(inputFeatures: 3, outputFeatures: 4, using: &generator)
            second = Linear(inputFeatures: 4, outputFeatures: 2, using: &generator)
        }
        func callAsFunction(_ x: Tensor) -> Tensor { second(first(x).silu()) }
    }

    @Test("Only trainable parameters get gradients, equal to the unfrozen ones; the optimizer leaves frozen ones alone")
    func frozen() {
        let model = Pair()
        let x = testTensor([5, 3], seed: 1)
        let (_, all) = valueAndGradient(model: model) { $0(x).squared().mean() }
        #expect(all.count == 4)
        let trainable = model.freeze { $0.hasPrefix("first.") }
        #expect(trainable == 4 * 2 + 2)
        let (_, some) = valueAndGradient(model: model) { $0(x).squared().mean() }
        #expect(Set(some.keys) == ["second.weight", "second.bias"])
        for (key, gradient) in some { #expect(relativeError(gradient, all[key]!) < 1e-6) }
        let before = model.first.weight.value.scalars
        var adam = Adam.adamW(learningRate: 0.1)
        adam.update(model, gradients: some)
        #expect(model.first.weight.value.scalars == before)
        #expect(model.trainableParameters().map(\.path).sorted() == ["second.bias", "second.weight"])
    }
}
