import CSM
import Dataset
import Foundation
import Hub
import Tokenizer
import Torch

/// `csm train` end to end: resolve the base model, read the preprocessed set, attach LoRA (or make
/// every weight trainable), run the `Trainer`, and leave in `output_dir` what the seed leaves there:
/// the adapter (or full model), the tokenizer/processor files, checkpoints, logs.
public struct TrainingRun {
    public let config: TrainConfig
    public var log: (String) -> Void

    public init(config: TrainConfig, log: @escaping (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.config = config
        self.log = log
    }

    @discardableResult
    public func run() throws -> Trainer.Outcome {
        try config.validate()
        if config.threads > 0 { Runtime.threads = config.threads }
        // Several processes (torchrun's variables, or csm train --nproc): join the group first,
        // so a rank that cannot connect fails before loading anything. Rank 0 does the talking.
        // The device first: the ranks agree on NCCL (every rank on CUDA) or Gloo when they join.
        let environment = try DistributedEnvironment.fromEnvironment()
        var device = try Device.parse(config.device)
        if let environment, case .cuda = device { device = try Device.parse("cuda:\(environment.localRank)") }
        let distributed = try environment.map { try DataParallel.join($0, timeout: config.ddpTimeout, device: device) }
        let log = distributed.map { $0.isMain } ?? true ? self.log : { _ in }
        if let distributed {
            log("[train] \(distributed.worldSize) rank(s); collectives: \(distributed.backend)")
        }
        let outputDir = URL(fileURLWithPath: config.outputDir)
        if let genFrom = config.genFrom {  // fail now, not at step 1000
            do { try GenerationPrompt.validateFolder(URL(fileURLWithPath: genFrom)) } catch {
                throw ConfigError("--gen_from \(genFrom): \(error)")
            }
        }

        let dataset = try PreprocessedDataset(URL(fileURLWithPath: config.preprocessedPath!))
        let modelFolder = try ModelLocator.resolve(config.modelId)
        log("[train] model \(config.modelId) → \(modelFolder.path) on \(device)")
        // Ids and codes only mean something under the tokenizer and codec that made them.
        try dataset.requireFingerprint(Fingerprint.of(modelFolder: modelFolder), modelId: config.modelId)
        let model = try CSMForConditionalGeneration.load(folder: modelFolder, dtype: .f32, device: device)
        let (train, validation, heldOut) = try split(dataset, modelFolder: modelFolder)

        Runtime.manualSeed(UInt64(config.seed))
        let lora = LoRAConfig(rank: config.loraR, alpha: config.loraAlpha, dropout: config.loraDropout)
        let parameters: [Torch.NamedParameter]
        try config.applyMemorySettings(to: model, device: device, log: log)
        if config.fullFinetune {
            parameters = try model.makeTrainable()
        } else {
            if config.loadIn4bit {
                let saved = try model.quantizeDecoderLayers()
                log("[train] --load_in_4bit: decoder-layer weights in NF4 (\(saved / 1_000_000) MB saved)")
            }
            try model.applyLoRA(lora)
            model.setTraining(true)
            parameters = model.loraParameters
        }

        let isMain = distributed?.isMain ?? true
        let speech = config.evalSpeechEvery > 0 && isMain
            ? try SpeechEvalHook(config: config, model: model, modelFolder: modelFolder, dataset: dataset,
                                 candidates: heldOut.isEmpty ? Array(0..<dataset.count) : heldOut, device: device,
                                 outputDir: outputDir, log: log)
            : nil
        // Loading the judges (perhaps downloading them) is rank 0's alone too: the others wait as for an evaluation.
        if config.evalSpeechEvery > 0 { try distributed?.awaitMain(after: "speech evaluation set-up") }
        let io = TrainerIO(
            saveWeights: { folder in
                if config.fullFinetune {
                    try FullModel.save(model, baseFolder: modelFolder, to: folder)
                } else {
                    try PEFTAdapter.save(model, config: lora, to: folder, baseModel: config.modelId)
                }
                try FullModel.copyProcessorFiles(from: modelFolder, to: folder)
            },
            loadWeights: { folder in
                let file = config.fullFinetune ? "model.safetensors" : PEFTAdapter.weightsFile
                let saved = try Safetensors.read(folder.appendingPathComponent(file))
                for (name, tensor) in parameters {
                    let key = config.fullFinetune ? name : "base_model.model." + name
                    guard let value = saved[key] ?? (config.fullFinetune ? saved[FullModel.checkpointKey(name)] : nil) else {
                        throw ConfigError("\(folder.path)/\(file): has no '\(key)'; was it written by this run?")
                    }
                    try withNoGrad { try tensor.copy_(value) }
                }
            },
            generate: config.genFrom.map {
                TrainingSampleWriter(model: model, modelFolder: modelFolder, genFrom: URL(fileURLWithPath: $0),
                                     outputDir: outputDir, seed: UInt64(bitPattern: Int64(config.seed)),
                                     maskSpeakerIds: config.maskSpeakerIds).hook
            },
            evaluateSpeech: speech.map { hook in { try hook.evaluate(step: $0) } },
            log: log
        )
        let trainer = try Trainer(config: config, model: model, parameters: parameters, train: train,
                                  validation: validation, io: io, distributed: distributed)
        Interrupt.shared.install()
        let outcome = try trainer.run()
        if distributed?.isMain ?? true { TrainingReport.writeAfterTraining(config: config, log: log) }
        return outcome
    }

    /// Holds out whole conversations (so no context turn leaks from training into validation) until
    /// at least `val_fraction` of the samples are held out; the choice is seeded. `heldOut`: the validation
    /// samples' indices in the set.
    func split(_ dataset: PreprocessedDataset, modelFolder: URL) throws
        -> (train: [Sample], validation: [Sample], heldOut: [Int]) {
        var samples: [Sample]
        if config.maskSpeakerIds {
            var masking = try SpeakerMasking(dataset: dataset, tokenizer: Tokenizer(folder: modelFolder))
            samples = try (0 ..< dataset.count).map { try masking.sample($0, contextTurns: config.numContextTurns) }
        } else {
            samples = try dataset.samples(contextTurns: config.numContextTurns)
        }
        guard config.valFraction > 0 else { return (samples, [], []) }
        let conversationOf = dataset.manifest.samples.map(\.conversation)
        var rng = SeededRandom(seed: UInt64(config.seed))
        let conversations = Array(Set(conversationOf)).sorted().shuffled(using: &rng)
        let want = Int((Double(samples.count) * config.valFraction).rounded(.up))
        var held = Set<Int>(), count = 0
        for c in conversations where count < want {
            held.insert(c)
            count += conversationOf.filter { $0 == c }.count
        }
        guard count < samples.count else {
            throw ConfigError("--val_fraction \(config.valFraction) would hold out every conversation; lower it")
        }
        let train = samples.indices.filter { !held.contains(conversationOf[$0]) }.map { samples[$0] }
        let heldOut = samples.indices.filter { held.contains(conversationOf[$0]) }
        return (train, heldOut.map { samples[$0] }, heldOut)
    }
}
