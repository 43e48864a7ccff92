import Foundation
import Yams

/// Every setting of `csm train`, under the seed's `train.py` names and defaults, plus the extras of
/// SPEC §4. Resolved as: defaults, then `--config FILE.yaml`, then command-line flags.
public struct TrainConfig: Codable, Equatable, Sendable {
    // The seed's arguments.
    public var preprocessedPath: String? = nil
    public var outputDir = "./outputs"
    public var modelId = "unsloth/csm-1b"
    public var batchSize = 2
    public var gradientAccumulationSteps = 4
    public var learningRate = 2e-4
    public var nEpochs = 2.0
    public var maxSteps = -1
    public var warmupSteps = 5
    public var weightDecay = 0.001
    public var lrSchedulerType = "linear"
    public var maxGradNorm = 1.0
    public var seed = 3407
    public var loadIn4bit = false
    public var fullFinetune = false
    public var loraR = 32
    public var loraAlpha = 32.0
    public var saveEvery = 500
    public var genEvery = 1000
    public var genFrom: String? = nil
    public var useWandb = false
    // Extras.
    public var loraDropout = 0.0
    /// Fraction of audio frames the depth decoder trains on (1/16 in the CSM paper; 1.0 as HF).
    public var decoderFraction = 1.0
    /// Only the target (last) turn's frames are labelled; context turns are conditioning only.
    public var targetOnlyLoss = false
    /// Drop the "[speaker]" prefix from the text of every turn.
    public var maskSpeakerIds = false
    /// Fraction of samples held out for validation (0 = none).
    public var valFraction = 0.0
    /// Validation every N optimizer steps (0 = at each `save_every`).
    public var valEvery = 0
    /// Length-bucketed batches holding at most this many positions (0 = fixed `batch_size`).
    public var tokenBudget = 0
    /// Use at most this many context turns per sample (nil = as preprocessed).
    public var numContextTurns: Int? = nil
    public var resume = false
    public var device = "auto"
    public var threads = 0
    public var logEvery = 1
    /// Seconds a multi-process run waits for a peer (rendezvous, a collective) before giving up;
    /// transformers' `ddp_timeout`.
    public var ddpTimeout = 1800.0
    /// LoRA's frozen base weights: "bf16" (half the memory; products in bf16 where the hardware has it)
    /// or "f32" (transformers' f32 numerics exactly). nil: bf16, as Unsloth loads the seed's model.
    public var baseDtype: String? = nil
    /// Activation checkpointing of the decoder layers' MLPs: "all" (default: 38 % less peak memory for
    /// ~20 % more time on CSM-1B, BENCHMARKS.md), "depth" (the depth decoder's, most of the activations) or "none".
    public var recomputeMlp = "all"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case preprocessedPath = "preprocessed_path", outputDir = "output_dir", modelId = "model_id"
        case batchSize = "batch_size", gradientAccumulationSteps = "gradient_accumulation_steps"
        case learningRate = "learning_rate", nEpochs = "n_epochs", maxSteps = "max_steps"
        case warmupSteps = "warmup_steps", weightDecay = "weight_decay", lrSchedulerType = "lr_scheduler_type"
        case maxGradNorm = "max_grad_norm", seed, loadIn4bit = "load_in_4bit", fullFinetune = "full_finetune"
        case loraR = "lora_r", loraAlpha = "lora_alpha", saveEvery = "save_every", genEvery = "gen_every"
        case genFrom = "gen_from", useWandb = "use_wandb", loraDropout = "lora_dropout"
        case decoderFraction = "decoder_fraction", targetOnlyLoss = "target_only_loss"
        case maskSpeakerIds = "mask_speaker_ids", valFraction = "val_fraction", valEvery = "val_every"
        case tokenBudget = "token_budget", numContextTurns = "num_context_turns", resume, device, threads
        case logEvery = "log_every", ddpTimeout = "ddp_timeout"
        case baseDtype = "base_dtype", recomputeMlp = "recompute_mlp"
    }

    /// The YAML/JSON key names, as the seed spells them.
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func v<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T { try c.decodeIfPresent(T.self, forKey: key) ?? fallback }
        let d = TrainConfig()
        preprocessedPath = try c.decodeIfPresent(String.self, forKey: .preprocessedPath)
        outputDir = try v(.outputDir, d.outputDir)
        modelId = try v(.modelId, d.modelId)
        batchSize = try v(.batchSize, d.batchSize)
        gradientAccumulationSteps = try v(.gradientAccumulationSteps, d.gradientAccumulationSteps)
        learningRate = try v(.learningRate, d.learningRate)
        nEpochs = try v(.nEpochs, d.nEpochs)
        maxSteps = try v(.maxSteps, d.maxSteps)
        warmupSteps = try v(.warmupSteps, d.warmupSteps)
        weightDecay = try v(.weightDecay, d.weightDecay)
        lrSchedulerType = try v(.lrSchedulerType, d.lrSchedulerType)
        maxGradNorm = try v(.maxGradNorm, d.maxGradNorm)
        seed = try v(.seed, d.seed)
        loadIn4bit = try v(.loadIn4bit, d.loadIn4bit)
        fullFinetune = try v(.fullFinetune, d.fullFinetune)
        loraR = try v(.loraR, d.loraR)
        loraAlpha = try v(.loraAlpha, d.loraAlpha)
        saveEvery = try v(.saveEvery, d.saveEvery)
        genEvery = try v(.genEvery, d.genEvery)
        genFrom = try c.decodeIfPresent(String.self, forKey: .genFrom)
        useWandb = try v(.useWandb, d.useWandb)
        loraDropout = try v(.loraDropout, d.loraDropout)
        decoderFraction = try v(.decoderFraction, d.decoderFraction)
        targetOnlyLoss = try v(.targetOnlyLoss, d.targetOnlyLoss)
        maskSpeakerIds = try v(.maskSpeakerIds, d.maskSpeakerIds)
        valFraction = try v(.valFraction, d.valFraction)
        valEvery = try v(.valEvery, d.valEvery)
        tokenBudget = try v(.tokenBudget, d.tokenBudget)
        numContextTurns = try c.decodeIfPresent(Int.self, forKey: .numContextTurns)
        resume = try v(.resume, d.resume)
        device = try v(.device, d.device)
        threads = try v(.threads, d.threads)
        logEvery = try v(.logEvery, d.logEvery)
        baseDtype = try c.decodeIfPresent(String.self, forKey: .baseDtype)
        recomputeMlp = try v(.recomputeMlp, d.recomputeMlp)
        ddpTimeout = try v(.ddpTimeout, d.ddpTimeout)
    }

    /// Reads a YAML preset with the same keys as the flags. Unknown keys are errors naming them.
    public static func load(yaml url: URL) throws -> TrainConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConfigError("\(url.path): cannot read the config file (\(error.localizedDescription))")
        }
        let node: Any?
        do { node = try Yams.load(yaml: text) } catch {
            throw ConfigError("\(url.path): not valid YAML (\(error))")
        }
        guard let mapping = (node ?? [String: Any]()) as? [String: Any] else {
            throw ConfigError("\(url.path): expected a mapping of setting names to values")
        }
        let known = Set(keys)
        for key in mapping.keys.sorted() where !known.contains(key) {
            let hint = keys.min { editDistance($0, key) < editDistance($1, key) }.map { " (did you mean '\($0)'?)" } ?? ""
            throw ConfigError("\(url.path): unknown setting '\(key)'\(hint)")
        }
        if mapping.isEmpty { return TrainConfig() }
        do { return try YAMLDecoder().decode(TrainConfig.self, from: text) } catch let DecodingError.typeMismatch(type, ctx) {
            let key = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError("\(url.path): '\(key)' must be a \(type)")
        } catch {
            throw ConfigError("\(url.path): \(error)")
        }
    }

    /// Checks values that would only fail later (or silently misbehave).
    public func validate() throws {
        guard preprocessedPath != nil else { throw ConfigError("--preprocessed_path is required (flag or config file)") }
        func need(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError(message) } }
        try need(batchSize >= 1, "--batch_size must be at least 1")
        try need(gradientAccumulationSteps >= 1, "--gradient_accumulation_steps must be at least 1")
        try need(learningRate > 0, "--learning_rate must be positive")
        try need(maxSteps > 0 || nEpochs > 0, "set --max_steps or a positive --n_epochs")
        try need(warmupSteps >= 0, "--warmup_steps must be ≥ 0")
        try need(["linear", "cosine", "constant", "constant_with_warmup"].contains(lrSchedulerType),
                 "--lr_scheduler_type must be linear, cosine, constant or constant_with_warmup (got \(lrSchedulerType))")
        try need(maxGradNorm >= 0, "--max_grad_norm must be ≥ 0 (0 disables clipping)")
        try need(loraR >= 1 || fullFinetune, "--lora_r must be at least 1")
        try need(!(fullFinetune && loadIn4bit), "--full_finetune and --load_in_4bit cannot be combined (4-bit weights are frozen)")
        try need(decoderFraction > 0 && decoderFraction <= 1, "--decoder_fraction must be in (0, 1]")
        try need(valFraction >= 0 && valFraction < 1, "--val_fraction must be in [0, 1)")
        try need(loraDropout >= 0 && loraDropout < 1, "--lora_dropout must be in [0, 1)")
        try need(ddpTimeout > 0, "--ddp_timeout must be positive (seconds)")
        try need(saveEvery >= 0 && genEvery >= 0, "--save_every and --gen_every must be ≥ 0 (0 disables)")
        try need(baseDtype == nil || ["f32", "bf16"].contains(baseDtype!), "--base_dtype must be f32 or bf16 (got \(baseDtype ?? ""))")
        try need(baseDtype == nil || !(fullFinetune || loadIn4bit),
                 "--base_dtype applies to LoRA's frozen base only, not with --full_finetune or --load_in_4bit")
        try need(["none", "depth", "all"].contains(recomputeMlp), "--recompute_mlp must be none, depth or all (got \(recomputeMlp))")
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0 ... b.count)
    for i in 1 ... max(a.count, 1) where !a.isEmpty {
        var previous = row[0]
        row[0] = i
        for j in 1 ... max(b.count, 1) where !b.isEmpty {
            let current = row[j]
            row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
            previous = current
        }
    }
    return row[b.count]
}
