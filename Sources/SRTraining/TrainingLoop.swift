import Foundation
import SRCheckpoint
import SRDiffusion
import SRNN
import SRSupport
import SRTensor

/// What a model family trains: its network, the loss of a step, validation and export. The loop
/// around it (`TrainingLoop`) is the same for every family.
public protocol TrainingTask: AnyObject {
    /// The network; only its trainable parameters (`Parameter.isTrainable`) receive gradients.
    var network: Module { get }
    /// The loss of step `step` (its batch and noise are functions of the seed and the step) and the
    /// gradients of the trainable parameters; throws when its data cannot be read.
    func lossAndGradients(step: Int) throws -> (Float, [String: Tensor])
    /// Validates the EMA `weights` after `step` steps; the entry is logged as it is.
    func validate(weights: [String: Tensor], step: Int) throws -> [String: Any]
    /// The entry's score, higher is better (the best one's weights go to `best.safetensors`); nil
    /// when it has none.
    func score(of entry: [String: Any]) -> Double?
    /// Writes EMA `weights` as a model file the product can use.
    func export(weights: [String: Tensor], to path: String) throws
    /// The task's own state for checkpoints (e.g. SR3+'s chosen augmentation level), and its restore.
    func checkpointMetadata() throws -> [String: String]
    func restore(checkpointMetadata: [String: String])
    /// Starts producing batches from step `step` (a prefetcher), and stops.
    func startBatches(at step: Int)
    func stopBatches()
    /// The loop around the task, which the task owns (the loop holds the task unowned).
    var loop: TrainingLoop! { get }
}

extension TrainingTask {
    /// Steps done.
    public var step: Int { loop.step }

    /// Runs until the configured steps (`TrainingLoop.train`).
    public func train(report: TrainingLoop.Report? = nil, shouldStop: () -> Bool = { false }) throws {
        try loop.train(report: report, shouldStop: shouldStop)
    }
}

/// The engineering of a long CPU training run, for any `TrainingTask`: AdamW with linear warm-up
/// (then a constant or cosine-decayed rate), global-norm clipping, EMA weights, validation that
/// keeps the best EMA weights, atomic checkpoints (weights, EMA, optimizer moments, step, best
/// score, the task's metadata) with exact resume, a JSONL log, and a stop with a clear message on a
/// NaN/∞ loss.
public final class TrainingLoop {
    /// What the loop needs of a configuration.
    public struct Settings: Sendable {
        public var optimization: TrainingConfiguration.Optimization
        public var steps: Int
        public var logEvery: Int
        public var validateEvery: Int
        public var checkpointEvery: Int
        /// Output folder: log.jsonl, checkpoint.safetensors, samples/, best.safetensors, model.safetensors.
        public var output: String

        public init(optimization: TrainingConfiguration.Optimization, steps: Int, logEvery: Int, validateEvery: Int, checkpointEvery: Int,
                    output: String) {
            self.optimization = optimization
            self.steps = steps
            self.logEvery = logEvery
            self.validateEvery = validateEvery
            self.checkpointEvery = checkpointEvery
            self.output = output
        }
    }

    public let settings: Settings
    /// The task, which owns the loop (held unowned, so the two do not keep each other alive).
    public unowned let task: TrainingTask
    public private(set) var optimizer: Adam
    public private(set) var ema: ExponentialMovingAverage
    public private(set) var step = 0
    /// The best validation score so far; its EMA weights are in `best.safetensors` (kept across resume).
    public private(set) var bestScore: Double?
    private(set) var lastCheckpoint: String?
    /// Test seam: replaces the loss of a step before it is checked (to exercise divergence handling).
    var lossHook: ((Int, Float) -> Float)?

    /// Status after each step, for progress bars: (step, loss, steps per second).
    public typealias Report = (_ step: Int, _ loss: Float, _ stepsPerSecond: Double) -> Void

    public init(settings: Settings, task: TrainingTask, resumeFrom checkpoint: String? = nil) throws {
        self.settings = settings
        self.task = task
        let betas = settings.optimization.betas ?? [0.9, 0.999]
        optimizer = Adam.adamW(learningRate: settings.optimization.learningRate, beta1: betas[0], beta2: betas[1],
                               weightDecay: settings.optimization.weightDecay)
        ema = ExponentialMovingAverage(of: task.network, decay: settings.optimization.emaDecay)
        if let checkpoint { try resume(from: checkpoint) }
    }

    /// Runs until `settings.steps`, reporting each step; throws `TrainingError.diverged` on a
    /// non-finite loss (after which the last checkpoint is intact) or `DiffusionSampling.Cancelled`
    /// when `shouldStop` returns true (after writing a checkpoint).
    public func train(report: Report? = nil, shouldStop: () -> Bool = { false }) throws {
        let s = settings
        try FileManager.default.createDirectory(atPath: s.output + "/samples", withIntermediateDirectories: true)
        let log = try JSONLines(path: s.output + "/log.jsonl")
        task.startBatches(at: step)
        defer { task.stopBatches() }
        let schedule = s.optimization.schedule(totalSteps: s.steps)
        var window: [Float] = []
        var windowStart = Date()
        while step < s.steps {
            var (loss, gradients) = try withTrainingMode(true) { try task.lossAndGradients(step: step) }
            if let lossHook { loss = lossHook(step + 1, loss) }
            guard loss.isFinite else {
                try log.write(["step": step + 1, "event": "diverged", "loss": "\(loss)"])
                throw TrainingError.diverged(step: step + 1, lastCheckpoint: lastCheckpoint)
            }
            let norm = s.optimization.gradientClip > 0 ? clipGradientNorm(&gradients, maxNorm: s.optimization.gradientClip) : 0
            optimizer.learningRate = schedule.rate(at: step + 1, base: s.optimization.learningRate)
            optimizer.update(task.network, gradients: gradients)
            ema.update(from: task.network, step: step)
            step += 1
            window.append(loss)
            let rate = Double(window.count) / max(Date().timeIntervalSince(windowStart), 1e-9)
            report?(step, loss, rate)
            if step % s.logEvery == 0 || step == s.steps {
                try log.write(["step": step, "loss": Double(window.reduce(0, +) / Float(window.count)),
                               "learning_rate": Double(optimizer.learningRate), "gradient_norm": Double(norm), "steps_per_second": rate])
                window.removeAll()
                windowStart = Date()
            }
            if step % s.validateEvery == 0 || step == s.steps { try log.write(try validateKeepingBest()) }
            if step % s.checkpointEvery == 0 || step == s.steps { try saveCheckpoint() }
            if shouldStop() {
                try saveCheckpoint()
                throw DiffusionSampling.Cancelled()
            }
        }
        try task.export(weights: ema.shadow, to: s.output + "/model.safetensors")
    }

    /// The task's validation of the EMA weights; when its score beats every earlier one of the run,
    /// the EMA weights are exported to `best.safetensors` (the log entry gets `"best": true`).
    func validateKeepingBest() throws -> [String: Any] {
        var entry = try task.validate(weights: ema.shadow, step: step)
        if let score = task.score(of: entry), score.isFinite, score > (bestScore ?? -.infinity) {
            try task.export(weights: ema.shadow, to: settings.output + "/best.safetensors")
            bestScore = score
            entry["best"] = true
        }
        return entry
    }

    /// Writes `checkpoint.safetensors` (weights, EMA, Adam moments, step, best score, the task's
    /// metadata) atomically.
    public func saveCheckpoint() throws {
        var tensors: [String: Tensor] = [:]
        for (path, parameter) in task.network.namedParameters() {
            tensors["model." + path] = parameter.value
            tensors["ema." + path] = ema.shadow[path]
            if let m = optimizer.firstMoments[path], let v = optimizer.secondMoments[path] {
                tensors["adam.m." + path] = m
                tensors["adam.v." + path] = v
            }
        }
        var metadata = try task.checkpointMetadata()
        metadata["diffsr.step"] = String(step)
        metadata["diffsr.adam_step"] = String(optimizer.step)
        if let bestScore { metadata[Self.bestScoreKey] = String(bestScore) }
        let path = settings.output + "/checkpoint.safetensors"
        try SafeTensorsFile.write(tensors, metadata: metadata, to: path)
        lastCheckpoint = path
    }

    /// The checkpoint key of the best score (SR3's checkpoints named it by its metric).
    static let bestScoreKey = "diffsr.best_score", legacyBestScoreKey = "diffsr.best_psnr_y"

    func resume(from path: String) throws {
        let file = try SafeTensorsFile(contentsOfFile: path)
        guard let stepText = file.metadata["diffsr.step"], let savedStep = Int(stepText),
              let adamText = file.metadata["diffsr.adam_step"], let adamStep = Int(adamText) else {
            throw TrainingError.data("\(path): not a training checkpoint (no diffsr.step metadata)")
        }
        var weights: [String: Tensor] = [:], shadow: [String: Tensor] = [:], m: [String: Tensor] = [:], v: [String: Tensor] = [:]
        for key in file.keys {
            let tensor = try file.tensor(key)
            if key.hasPrefix("model.") { weights[String(key.dropFirst(6))] = tensor }
            else if key.hasPrefix("ema.") { shadow[String(key.dropFirst(4))] = tensor }
            else if key.hasPrefix("adam.m.") { m[String(key.dropFirst(7))] = tensor }
            else if key.hasPrefix("adam.v.") { v[String(key.dropFirst(7))] = tensor }
        }
        do { try task.network.update(parameters: weights) } catch let error as ParameterUpdateError {
            throw TrainingError.data("\(path): the checkpoint's network does not match the configuration's: \(error)")
        }
        ema = ExponentialMovingAverage(shadow: shadow, decay: settings.optimization.emaDecay)
        optimizer.restore(step: adamStep, firstMoments: m, secondMoments: v)
        step = savedStep
        task.restore(checkpointMetadata: file.metadata)
        bestScore = (file.metadata[Self.bestScoreKey] ?? file.metadata[Self.legacyBestScoreKey]).flatMap(Double.init)
        lastCheckpoint = path
    }
}

/// An append-only JSON-lines log.
final class JSONLines {
    let handle: FileHandle
    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TrainingError.data("\(path): cannot write the log") }
        handle.seekToEndOfFile()
        self.handle = handle
    }
    func write(_ object: [String: Any]) throws {
        handle.write(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) + Data("\n".utf8))
    }
}
