import ArgumentParser
import CSM
import Dataset
import Foundation
import Hub
import Torch
import Training

/// `csm train`: the seed's train.py, every argument under its name and default (kebab-case too),
/// `--config FILE.yaml` with the same keys (flags win over the file, the file over defaults).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune CSM (LoRA, QLoRA or full) on a preprocessed dataset."
    )

    @Option(name: .both("preprocessed_path"), help: "Preprocessed dataset (from csm preprocess).") var preprocessedPath: String?
    @Option(name: .both("output_dir"), help: "Where adapters, checkpoints and logs go (default ./outputs).") var outputDir: String?
    @Option(name: .both("model_id"), help: "Base model: a folder or a hub id (default unsloth/csm-1b).") var modelId: String?
    @Option(name: .both("config"), help: "YAML file with the same keys as these flags.") var config: String?
    @Option(name: .both("batch_size"), help: "Samples per batch (default 2).") var batchSize: Int?
    @Option(name: .both("gradient_accumulation_steps"), help: "Batches per optimizer step (default 4).") var gradientAccumulationSteps: Int?
    @Option(name: .both("learning_rate"), help: "Peak learning rate (default 2e-4).") var learningRate: Double?
    @Option(name: .both("n_epochs"), help: "Epochs (default 2).") var nEpochs: Double?
    @Option(name: .both("max_steps"), help: "Optimizer steps; -1 uses --n_epochs (default -1).") var maxSteps: Int?
    @Option(name: .both("warmup_steps"), help: "Linear warm-up steps (default 5).") var warmupSteps: Int?
    @Option(name: .both("weight_decay"), help: "AdamW weight decay (default 0.001).") var weightDecay: Double?
    @Option(name: .both("lr_scheduler_type"), help: "linear, cosine, constant or constant_with_warmup (default linear).") var lrSchedulerType: String?
    @Option(name: .both("max_grad_norm"), help: "Gradient clipping norm; 0 disables (default 1.0).") var maxGradNorm: Double?
    @Option(name: .both("seed"), help: "Seed for data order, LoRA init and dropout (default 3407).") var seed: Int?
    @Flag(name: .both("load_in_4bit"), help: "Frozen base weights in NF4 (QLoRA).") var loadIn4bit = false
    @Flag(name: .both("full_finetune"), help: "Train all weights instead of LoRA.") var fullFinetune = false
    @Option(name: .both("lora_r"), help: "LoRA rank (default 32).") var loraR: Int?
    @Option(name: .both("lora_alpha"), help: "LoRA alpha (default 32).") var loraAlpha: Double?
    @Option(name: .both("lora_dropout"), help: "LoRA dropout (default 0).") var loraDropout: Double?
    @Option(name: .both("save_every"), help: "Checkpoint every N steps; 0 disables (default 500).") var saveEvery: Int?
    @Option(name: .both("gen_every"), help: "Generate a sample wav every N steps (default 1000).") var genEvery: Int?
    @Option(name: .both("gen_from"), help: "Folder with segments/script.txt + wavs to generate from.") var genFrom: String?
    @Flag(name: .both("use_wandb"), help: "Log to Weights & Biases (WANDB_API_KEY or .env).") var useWandb = false
    @Option(name: .both("decoder_fraction"), help: "Fraction of frames the depth decoder trains on (default 1.0; 1/16 in the CSM paper).") var decoderFraction: Double?
    @Flag(name: .both("target_only_loss"), help: "Only the last turn's audio is a target.") var targetOnlyLoss = false
    @Flag(name: .both("mask_speaker_ids"), help: "Train without the [speaker] prefix in the text.") var maskSpeakerIds = false
    @Option(name: .both("val_fraction"), help: "Fraction of samples held out for validation (default 0).") var valFraction: Double?
    @Option(name: .both("val_every"), help: "Validation every N steps (default: at each save).") var valEvery: Int?
    @Option(name: .both("token_budget"), help: "Length-bucketed batches of at most this many positions (default 0: fixed batch size).") var tokenBudget: Int?
    @Option(name: .both("num_context_turns"), help: "Use at most this many context turns (default: as preprocessed).") var numContextTurns: Int?
    @Flag(name: .both("resume"), help: "Continue from the latest checkpoint in --output_dir.") var resume = false
    @Option(name: .both("device"), help: "auto, cpu, cuda, cuda:N or mps (default auto).") var device: String?
    @Option(name: .both("threads"), help: "CPU threads for libtorch (default: all cores).") var threads: Int?
    @Option(name: .both("nproc"), help: "Train data-parallel in N local processes (as torchrun --nproc-per-node N; Gloo).") var nproc: Int?
    @Option(name: .both("base_dtype"), help: "LoRA's frozen base weights: bf16 (default; half the memory, bf16 products where the CPU/GPU has them) or f32 (transformers' f32 numerics).") var baseDtype: String?
    @Option(name: .both("recompute_mlp"), help: "Recompute MLP activations in backward instead of keeping them: all (default), depth (the depth decoder's, most of the memory) or none (fastest).") var recomputeMlp: String?
    @Option(name: .both("ddp_timeout"), help: "Seconds a multi-process run waits for a peer before failing (default 1800).") var ddpTimeout: Double?

    /// Defaults, then the YAML file, then the flags that were given.
    func resolvedConfig() throws -> TrainConfig {
        var c = try config.map { try TrainConfig.load(yaml: URL(fileURLWithPath: $0)) } ?? TrainConfig()
        func set<T>(_ value: T?, _ path: WritableKeyPath<TrainConfig, T>) { if let value { c[keyPath: path] = value } }
        func set<T>(_ value: T?, _ path: WritableKeyPath<TrainConfig, T?>) { if let value { c[keyPath: path] = value } }
        set(preprocessedPath, \.preprocessedPath); set(outputDir, \.outputDir); set(modelId, \.modelId)
        set(batchSize, \.batchSize); set(gradientAccumulationSteps, \.gradientAccumulationSteps)
        set(learningRate, \.learningRate); set(nEpochs, \.nEpochs); set(maxSteps, \.maxSteps)
        set(warmupSteps, \.warmupSteps); set(weightDecay, \.weightDecay); set(lrSchedulerType, \.lrSchedulerType)
        set(maxGradNorm, \.maxGradNorm); set(seed, \.seed); set(loraR, \.loraR); set(loraAlpha, \.loraAlpha)
        set(loraDropout, \.loraDropout); set(saveEvery, \.saveEvery); set(genEvery, \.genEvery); set(genFrom, \.genFrom)
        set(decoderFraction, \.decoderFraction); set(valFraction, \.valFraction); set(valEvery, \.valEvery)
        set(tokenBudget, \.tokenBudget); set(numContextTurns, \.numContextTurns); set(device, \.device)
        set(threads, \.threads); set(ddpTimeout, \.ddpTimeout)
        set(baseDtype, \.baseDtype); set(recomputeMlp, \.recomputeMlp)
        if loadIn4bit { c.loadIn4bit = true }
        if fullFinetune { c.fullFinetune = true }
        if useWandb { c.useWandb = true }
        if targetOnlyLoss { c.targetOnlyLoss = true }
        if maskSpeakerIds { c.maskSpeakerIds = true }
        if resume { c.resume = true }
        try c.validate()
        return c
    }

    func run() throws {
        if let nproc, nproc > 1 {
            guard ProcessInfo.processInfo.environment["WORLD_SIZE"] == nil else {
                throw ValidationError("--nproc starts its own processes; it cannot run under torchrun or another launcher (WORLD_SIZE is set)")
            }
            _ = try resolvedConfig()  // report bad settings once, not from every process
            let launcher = LocalLauncher(processes: nproc, executable: try Self.executable(),
                                         arguments: LocalLauncher.withoutNproc(Array(CommandLine.arguments.dropFirst())))
            let status = try launcher.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        // Ctrl-C saved a checkpoint; say so with the shell's convention for SIGINT.
        if try TrainingRun(config: resolvedConfig()).run() == .interrupted { throw ExitCode(130) }
    }
}

extension Train {
    /// This program, for the workers of --nproc.
    static func executable() throws -> URL {
        let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: path)
    }
}

extension NameSpecification {
    /// The seed's snake_case spelling plus its kebab-case twin (`--batch_size`, `--batch-size`).
    static func both(_ snake: String) -> NameSpecification {
        let kebab = snake.replacingOccurrences(of: "_", with: "-")
        return kebab == snake ? [.customLong(snake)] : [.customLong(snake), .customLong(kebab)]
    }
}
