import CSM
import Foundation
import Torch

/// What the trainer needs from the outside world: how to write and read the trainable weights
/// (a PEFT adapter or a full model), and how to make a sample wav.
public struct TrainerIO {
    /// Writes the trainable weights (and their config) into a folder.
    public var saveWeights: (URL) throws -> Void
    /// Restores the trainable weights from a checkpoint folder (`--resume`).
    public var loadWeights: (URL) throws -> Void
    /// Writes `gen_step_XXXXXX.wav` for the given step; nil when `--gen_from` is not set.
    public var generate: ((Int) throws -> URL)?
    /// Speaks the held-out sentences at the given step and returns the metrics to log (`speech_wer`, `speech_cer`,
    /// `speech_similarity`); nil without `--eval_speech_every`.
    public var evaluateSpeech: ((Int) throws -> [String: Double])?
    public var log: (String) -> Void

    public init(saveWeights: @escaping (URL) throws -> Void, loadWeights: @escaping (URL) throws -> Void,
                generate: ((Int) throws -> URL)? = nil, evaluateSpeech: ((Int) throws -> [String: Double])? = nil,
                log: @escaping (String) -> Void = { print($0) }) {
        self.saveWeights = saveWeights
        self.loadWeights = loadWeights
        self.generate = generate
        self.evaluateSpeech = evaluateSpeech
        self.log = log
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, loss: Double, lastCheckpoint: String?)
    case resumeMismatch(String)

    public var description: String {
        switch self {
        case .nonFinite(let step, let loss, let last):
            return "step \(step): the loss is \(loss); stopping before the update so the weights stay intact. "
                + (last.map { "Last good checkpoint: \($0). " } ?? "")
                + "Try a lower --learning_rate, a smaller --max_grad_norm, or check the data."
        case .resumeMismatch(let why): return "--resume: \(why)"
        }
    }
}

/// The training loop of SPEC §4, top to bottom: batches in a seeded order, exact gradient
/// accumulation, clipping, AdamW with a warm-up schedule, and the periodic work (log, validate,
/// checkpoint, generate). One optimizer step:
///
/// 1. take the next `gradient_accumulation_steps` batches of the epoch;
/// 2. count the backbone and depth-decoder targets of all of them (B, D);
/// 3. per batch: loss = Σ backbone CE / B + Σ depth CE / D; backward — so the summed gradient is
///    exactly that of one batch holding them all;
/// 4. clip, set the scheduled learning rate, step, zero the gradients.
public final class Trainer {
    public enum Outcome: Equatable { case finished, interrupted }

    let config: TrainConfig
    let model: CSMForConditionalGeneration
    let parameters: [Torch.NamedParameter]
    let train: [Sample]
    let validation: [Sample]
    let io: TrainerIO
    let outputDir: URL
    let optimizer: AdamW
    let schedule: LRSchedule
    let stepsPerEpoch: Int
    public private(set) var state: TrainerState

    /// Batches of each epoch (sample indices): the seeded `Batcher` unless `order` gives them
    /// (a reference run's order in tests); with several ranks, this rank's shard of them.
    let order: (Int) -> [[Int]]
    /// Data-parallel training: this rank's group and how gradients are averaged (nil: one process).
    let distributed: DataParallel?
    let gradientSync: GradientSync?
    /// Only rank 0 writes checkpoints, weights, metrics and samples.
    var isMain: Bool { distributed?.isMain ?? true }

    public init(config: TrainConfig, model: CSMForConditionalGeneration, parameters: [Torch.NamedParameter],
                train: [Sample], validation: [Sample] = [], io: TrainerIO, order: ((Int) -> [[Int]])? = nil,
                distributed: DataParallel? = nil) throws {
        try config.validate()
        guard !train.isEmpty else { throw ConfigError("no training samples: check --preprocessed_path") }
        guard !parameters.isEmpty else { throw ConfigError("nothing to train: no trainable parameters") }
        self.config = config
        self.model = model
        self.parameters = parameters
        self.train = train
        self.validation = validation
        self.io = io
        outputDir = URL(fileURLWithPath: config.outputDir)

        // transformers: no weight decay on biases and norm weights (only matters for full fine-tuning).
        let noDecay = parameters.filter { Trainer.isNoDecay($0.name) }
        let decay = parameters.filter { !Trainer.isNoDecay($0.name) }
        optimizer = try AdamW(groups: [ParameterGroup(decay, weightDecay: config.weightDecay),
                                       ParameterGroup(noDecay, weightDecay: 0)].filter { !$0.parameters.isEmpty },
                              lr: config.learningRate)

        // With W ranks the global batches are those of one process with W times the batch (or
        // token budget), and each rank takes its slice of every one.
        let world = distributed?.worldSize ?? 1
        let lengths = train.map(\.positions)
        let batcher = Batcher(lengths: lengths, batchSize: config.batchSize * world,
                              tokenBudget: config.tokenBudget * world, seed: config.seed)
        let global = order ?? batcher.batches(epoch:)
        self.order = distributed.map { d in { d.shard(global($0), lengths: lengths) } } ?? global
        self.distributed = distributed
        gradientSync = try distributed?.gradientSync(parameters.map(\.tensor), recomputing: model.recomputesMLPs)
        let batchesPerEpoch = self.order(0).count
        stepsPerEpoch = (batchesPerEpoch + config.gradientAccumulationSteps - 1) / config.gradientAccumulationSteps
        let total = config.maxSteps > 0 ? config.maxSteps : Int((config.nEpochs * Double(stepsPerEpoch)).rounded(.up))
        schedule = try LRSchedule(name: config.lrSchedulerType, warmupSteps: config.warmupSteps, totalSteps: total)
        state = TrainerState(config: config)
        state.totalSteps = total
        state.worldSize = distributed?.worldSize
    }

    static func isNoDecay(_ name: String) -> Bool {
        name.hasSuffix(".bias") || name.contains("norm")
    }

    // MARK: the loop

    public func run() throws -> Outcome {
        guard let distributed else { return try loop() }
        do {
            let outcome = try loop()
            distributed.finish()
            return outcome
        } catch let error where error is TrainingError || error is ConfigError {  // not a lost peer
            distributed.stopWatching()
            throw error
        } catch {  // most likely a collective that lost a peer: name the rank
            throw distributed.explain(error)
        }
    }

    func loop() throws -> Outcome {
        try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
        try distributed?.checkSameRun([
            "training samples": Double(train.count), "validation samples": Double(validation.count),
            "positions": Double(train.reduce(0) { $0 + $1.positions }),
            "optimizer steps": Double(state.totalSteps), "batch_size": Double(config.batchSize),
            "gradient_accumulation_steps": Double(config.gradientAccumulationSteps), "seed": Double(config.seed),
            "trainable parameters": Double(parameters.reduce(0) { $0 + $1.tensor.count }),
        ])
        let resumed = try resumeIfAsked()
        try distributed?.broadcastFromMain(parameters.map(\.tensor))
        let metrics = isMain ? try MetricsLog(url: outputDir.appendingPathComponent("metrics.jsonl"),
                                              truncateAfterStep: resumed ? state.globalStep : nil) : nil
        let tensorboard = isMain ? try TensorBoardWriter(logDir: outputDir.appendingPathComponent("runs")) : nil
        let wandb = isMain ? makeWandB() : nil
        var exitCode = 1  // what W&B records: the process's exit status, an error unless set below
        defer { wandb?.finish(exitCode: exitCode) }
        // A second Ctrl-C quits without the checkpoint; the rows already logged still go out (2 s at most).
        let quitToken = wandb.map { w in Interrupt.shared.onQuit { w.finish(exitCode: 130, waitAtMost: 2) } }
        defer { quitToken.map(Interrupt.shared.removeOnQuit) }
        let progress = isMain ? TrainingProgress(total: state.totalSteps, log: io.log) : nil
        io.log("[train] \(train.count) samples, \(validation.count) validation, \(stepsPerEpoch) steps/epoch, "
            + "\(state.totalSteps) steps; trainable parameters: \(parameters.reduce(0) { $0 + $1.tensor.count })"
            + (distributed.map { " on \($0.worldSize) ranks (\($0.backend.backend)), gradients averaged \(gradientSync!)" } ?? ""))

        if model.device != .cpu, isMain, let note = Runtime.peakMemory(on: model.device).note {
            io.log("[train] peak GPU memory not recorded: \(note); metrics.jsonl has host RSS only (peak_rss_mb)")
        }

        var lastCheckpoint = Checkpoint.latest(in: outputDir)?.path
        var epochBatches = order(state.epoch)
        while state.globalStep < state.totalSteps {
            if state.batchInEpoch >= epochBatches.count {
                state.epoch += 1
                state.batchInEpoch = 0
                epochBatches = order(state.epoch)
            }
            let end = min(state.batchInEpoch + config.gradientAccumulationSteps, epochBatches.count)
            let micro = Array(epochBatches[state.batchInEpoch ..< end])
            let started = Date()
            let result = try step(micro)
            guard result.loss.isFinite else {
                throw TrainingError.nonFinite(step: state.globalStep + 1, loss: result.loss, lastCheckpoint: lastCheckpoint)
            }
            state.globalStep += 1
            state.batchInEpoch = end
            state.lastLoss = result.loss
            let seconds = Date().timeIntervalSince(started)

            let epoch = Double(state.epoch) + Double(state.batchInEpoch) / Double(max(epochBatches.count, 1))
            var row: [String: Any] = [
                "step": state.globalStep, "epoch": epoch, "loss": result.loss, "backbone_loss": result.backbone,
                "depth_loss": result.depth, "lr": state.lastLR, "grad_norm": result.gradNorm,
                "tokens_per_s": Double(result.positions) / seconds, "s_per_step": seconds,
            ]
            row.merge(peakMemoryColumns(device: model.device)) { $1 }
            if let v = try validateIfDue() {
                row["val_loss"] = v.loss
                row["val_backbone_loss"] = v.backboneLoss
                row["val_depth_loss"] = v.depthLoss
            }
            // Rank 0 only. The others wait for it outside any collective: a collective would give up after
            // --ddp_timeout, and an evaluation can take longer.
            if config.evalSpeechEvery > 0, state.globalStep % config.evalSpeechEvery == 0 {
                if isMain, let evaluate = io.evaluateSpeech { row.merge(try evaluate(state.globalStep)) { $1 } }
                try distributed?.awaitMain(after: "speech evaluation at step \(state.globalStep)")
            }
            try metrics?.append(row)
            let scalars = row.compactMap { k, v -> (String, Double)? in
                k == "step" ? nil : (v as? Double).map { ("train/\(k)", $0) }
            }.sorted { $0.0 < $1.0 }
            try tensorboard?.scalars(scalars, step: state.globalStep)
            wandb?.log(row.compactMapValues { $0 as? Double }, step: state.globalStep)
            progress?.update(step: state.globalStep, row: row)

            let interrupted = result.interrupted
            if isMain, (config.saveEvery > 0 && state.globalStep % config.saveEvery == 0) || interrupted {
                lastCheckpoint = try saveCheckpoint().path
            }
            if isMain, let generate = io.generate, config.genEvery > 0, state.globalStep % config.genEvery == 0 {
                let wav = try generate(state.globalStep)
                io.log("[train] step \(state.globalStep): wrote \(wav.path)")
            }
            if interrupted {
                exitCode = 130
                progress?.finish()
                io.log("[train] interrupted at step \(state.globalStep); resume with --resume")
                return .interrupted
            }
        }
        progress?.finish()
        guard isMain else { return .finished }
        try tensorboard?.flush()
        try io.saveWeights(outputDir)
        io.log("[train] done: \(state.globalStep) steps; weights in \(outputDir.path)")
        exitCode = 0
        return .finished
    }

    struct StepResult {
        var loss = 0.0, backbone = 0.0, depth = 0.0, gradNorm = 0.0
        var positions = 0
        /// Ctrl-C or SIGTERM arrived (on any rank): save and stop after this step.
        var interrupted = false
    }

    /// One optimizer step over `micro` (the batches accumulated into it).
    func step(_ micro: [[Int]]) throws -> StepResult {
        // Randomness of step k depends on (seed, k) only, so a resumed run draws the same numbers.
        Runtime.manualSeed(UInt64(config.seed) &+ UInt64(state.globalStep))
        let batches = try micro.map { try makeBatch($0) }
        var targets = [0.0, 0.0]
        for b in batches {
            targets[0] += Double(try b.backboneLabels.ne(Double(CSMLabel.ignore)).sum().itemInt())
            targets[1] += Double(try b.depthLabels.ne(Double(CSMLabel.ignore)).sum().itemInt())
        }
        // Every rank divides by the targets of the whole step, on all ranks, so that the gradients
        // summed over ranks are exactly those of one process holding every batch.
        if let distributed { targets = try distributed.sum(targets) }
        let backboneTargets = max(targets[0], 1), depthTargets = max(targets[1], 1)
        var result = StepResult()
        for (k, batch) in batches.enumerated() {
            // Named ranges for `csm-bench train --profile` (free otherwise).
            let (loss, _) = try Profiler.scope("forward") { try model.loss(batch) }
            let backbone = try loss.backboneSum / backboneTargets
            let depth = try loss.depthSum / depthTargets
            let total = try backbone + depth
            if let distributed {
                // The ranks' gradients are averaged; scaling by their number makes that the sum.
                // DDP's reducer communicates during the step's last backward (no_sync for the others).
                let objective = try total * Double(distributed.worldSize)
                if k == batches.count - 1, case .duringBackward(let reducer) = gradientSync {
                    try reducer.prepareForBackward([objective])
                }
                try objective.backward()
            } else {
                try Profiler.scope("backward") { try total.backward() }
            }
            result.loss += try total.item()
            result.backbone += try backbone.item()
            result.depth += try depth.item()
            result.positions += batch.layouts.reduce(0) { $0 + $1.count }
        }
        if case .afterBackward(let allReduce) = gradientSync { try allReduce.averageGradients() }
        result.interrupted = Interrupt.shared.requested
        if let distributed {  // the step's figures over all ranks, and one decision to stop
            let sums = try distributed.sum([result.loss, result.backbone, result.depth, Double(result.positions),
                                            result.interrupted ? 1 : 0])
            (result.loss, result.backbone, result.depth) = (sums[0], sums[1], sums[2])
            result.positions = Int(sums[3])
            result.interrupted = sums[4] > 0
        }
        guard result.loss.isFinite else {  // the caller stops; the weights stay as they were
            try optimizer.zeroGrad()
            return result
        }
        try Profiler.scope("optimizer") {
            let tensors = parameters.map(\.tensor)
            result.gradNorm = config.maxGradNorm > 0 ? try clipGradNorm(tensors, maxNorm: config.maxGradNorm)
                : try gradNorm(tensors)
            state.lastLR = config.learningRate * schedule.multiplier(state.globalStep)
            optimizer.lr = state.lastLR
            try optimizer.step()
            try optimizer.zeroGrad()
        }
        return result
    }

    /// Lays out and pads the samples of one batch, drawing the depth decoder's frames for
    /// `--decoder_fraction` from a generator seeded by (seed, step, sample).
    func makeBatch(_ indices: [Int]) throws -> CSMBatch {
        let ids = model.config.specialIds
        let layouts = try indices.map { i -> SampleLayout in
            let sample = train[i]
            let last = sample.turns.count - 1
            let labelTurn: (Int) -> Bool = config.targetOnlyLoss ? { $0 == last } : { _ in true }
            var rng = SeededRandom(seed: UInt64(config.seed) ^ (UInt64(state.globalStep) << 20) ^ UInt64(i))
            let skip = depthSkipFrames(frames: sample.labelledAudioFrames(labelTurn: labelTurn),
                                       decoderFraction: config.decoderFraction, using: &rng)
            return try sample.layout(ids, labelTurn: labelTurn, depthSkip: skip)
        }
        return try CSMBatch(layouts, numCodebooks: model.config.numCodebooks, device: model.device)
    }

    // MARK: validation, checkpoints, resume

    func validateIfDue() throws -> EvalResult? {
        guard !validation.isEmpty else { return nil }
        let every = config.valEvery > 0 ? config.valEvery : config.saveEvery
        guard every > 0, state.globalStep % every == 0 || state.globalStep == state.totalSteps else { return nil }
        model.setTraining(false)
        defer { model.setTraining(true) }
        guard let distributed else { return try model.evaluate(validation) }
        // Each rank evaluates every W-th sample; summed, the means are those of one process.
        let mine = stride(from: distributed.rank, to: validation.count, by: distributed.worldSize).map { validation[$0] }
        let local = mine.isEmpty ? nil : try model.evaluate(mine)
        return EvalResult(sums: try distributed.sum(local?.sums ?? [0, 0, 0, 0, 0]))
    }

    func saveCheckpoint() throws -> URL {
        let url = try Checkpoint.save(outputDir: outputDir, state: state, optimizer: optimizer, writeWeights: io.saveWeights)
        io.log("[train] step \(state.globalStep): checkpoint \(url.lastPathComponent)")
        return url
    }

    /// With `--resume`, restores the latest checkpoint of the output folder; returns whether it did.
    func resumeIfAsked() throws -> Bool {
        guard config.resume else { return false }
        guard let checkpoint = Checkpoint.latest(in: outputDir) else {
            io.log("[train] --resume: no checkpoint in \(outputDir.path) yet; starting from step 0")
            return false
        }
        let saved = try Checkpoint.loadState(checkpoint)
        guard saved.worldSize == state.worldSize else {
            throw TrainingError.resumeMismatch("\(checkpoint.lastPathComponent) was made by \(saved.worldSize ?? 1) "
                + "process(es) and this run has \(state.worldSize ?? 1); resume with the same number (the sample order depends on it)")
        }
        // The settings that fix the data, the sample order or the weights' shapes.
        let s = TrainConfig.declared
        let fixed: [any TrainSetting] = [s.preprocessedPath, s.modelId, s.batchSize, s.seed, s.gradientAccumulationSteps,
                                         s.fullFinetune, s.loraR, s.tokenBudget, s.loadIn4bit]
        let mismatches = fixed.filter { !$0.value(in: saved.config).isSame(as: $0.value(in: config)) }.map(\.key)
        guard mismatches.isEmpty else {
            throw TrainingError.resumeMismatch("\(checkpoint.lastPathComponent) was made with different "
                + mismatches.joined(separator: ", ") + "; use the same settings or a new --output_dir")
        }
        try io.loadWeights(checkpoint)
        try Checkpoint.loadOptimizer(checkpoint, into: optimizer)
        let total = state.totalSteps
        state = saved
        state.config = config
        state.totalSteps = total
        io.log("[train] resumed from \(checkpoint.lastPathComponent) (step \(state.globalStep))")
        return true
    }

    func makeWandB() -> WandBLogger? {
        guard config.useWandb else { return nil }
        guard let settings = WandBLogger.Settings.fromEnvironment() else {
            io.log("[train] warning: --use_wandb but no WANDB_API_KEY (environment or .env); continuing without W&B")
            return nil
        }
        let data = (try? JSONEncoder().encode(config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        let logger = WandBLogger(settings: settings, config: data, warn: { self.io.log("[train] warning: \($0)") })
        if logger.enabled { io.log("[train] W&B run: \(logger.runURL)") }
        return logger
    }
}

/// Global 2-norm of the gradients without clipping them.
func gradNorm(_ parameters: [Tensor]) throws -> Double {
    let norms = try parameters.compactMap { try $0.grad?.norm(2) }
    return norms.isEmpty ? 0 : try Tensor.stack(norms).norm(2).item()
}

/// The peak memory columns of a metrics row, each named for what it measures: `peak_rss_mb` (host RSS,
/// always), and on a GPU `peak_gpu_memory_mb` (the device allocator's peak) when it can be read. Host RSS
/// is never recorded under a GPU name.
func peakMemoryColumns(device: Device) -> [String: Double] {
    var columns: [String: Double] = [:]
    let host = Runtime.peakMemory(on: .cpu)
    if let mb = host.megabytes { columns[host.metricsKey] = mb }
    if device != .cpu {
        let gpu = Runtime.peakMemory(on: device)
        if let mb = gpu.megabytes { columns[gpu.metricsKey] = mb }
    }
    return columns
}

extension Sample {
    /// Sequence positions of the sample: each turn's text, its frames and the audio-end frame.
    var positions: Int { turns.reduce(0) { $0 + $1.textIds.count + $1.codes.count + 1 } }
}
