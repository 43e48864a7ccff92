import Foundation
import Yams

extension TrainConfig {
    /// Every setting of `csm train`, under the seed's `train.py` names and defaults, plus the extras of
    /// SPEC §4: the single declaration that `config.batchSize` reads and writes and that the command line
    /// (`--batch_size`/`--batch-size`, its --help), the `--config` YAML file, the JSON of the config
    /// (`trainer_state.json`, W&B) and the HTML report all work from.
    ///
    /// To add a setting: add one line here, e.g.
    ///
    ///     public let evalBatchSize = Setting("eval_batch_size", default: 8, help: "Samples per validation batch.")
    ///
    /// and `config.evalBatchSize` is an `Int`, `--eval_batch_size`/`--eval-batch-size` and the YAML key
    /// `eval_batch_size` set it, and --help, `trainer_state.json` and the report show it.
    /// The type follows the default (a `Bool` setting is a bare flag, `--resume`); a `nil` default needs the
    /// type spelled out, `Setting<Int?>`, and may say what unset means with `unset:` (for --help).
    public struct Settings: Sendable {
        // The seed's arguments.
        public let preprocessedPath = Setting<String?>("preprocessed_path", default: nil, help: "Preprocessed dataset (from csm preprocess); required, here or in --config's file.")
        public let outputDir = Setting("output_dir", default: "./outputs", help: "Where adapters, checkpoints and logs go.")
        public let modelId = Setting("model_id", default: "unsloth/csm-1b", help: "Base model: a folder or a hub id.")
        public let batchSize = Setting("batch_size", default: 2, help: "Samples per batch.")
        public let gradientAccumulationSteps = Setting("gradient_accumulation_steps", default: 4, help: "Batches per optimizer step.")
        public let learningRate = Setting("learning_rate", default: 2e-4, help: "Peak learning rate.")
        public let nEpochs = Setting("n_epochs", default: 2.0, help: "Epochs.")
        public let maxSteps = Setting("max_steps", default: -1, help: "Optimizer steps; -1 uses --n_epochs.")
        public let warmupSteps = Setting("warmup_steps", default: 5, help: "Linear warm-up steps.")
        public let weightDecay = Setting("weight_decay", default: 0.001, help: "AdamW weight decay.")
        public let lrSchedulerType = Setting("lr_scheduler_type", default: "linear", help: "linear, cosine, constant or constant_with_warmup.")
        public let maxGradNorm = Setting("max_grad_norm", default: 1.0, help: "Gradient clipping norm; 0 disables.")
        public let seed = Setting("seed", default: 3407, help: "Seed for data order, LoRA init and dropout.")
        public let loadIn4bit = Setting("load_in_4bit", default: false, help: "Frozen base weights in NF4 (QLoRA).")
        public let fullFinetune = Setting("full_finetune", default: false, help: "Train all weights instead of LoRA.")
        public let loraR = Setting("lora_r", default: 32, help: "LoRA rank.")
        public let loraAlpha = Setting("lora_alpha", default: 32.0, help: "LoRA alpha.")
        public let saveEvery = Setting("save_every", default: 500, help: "Checkpoint every N steps; 0 disables.")
        public let genEvery = Setting("gen_every", default: 1000, help: "Generate a sample wav from --gen_from every N steps; 0 disables.")
        public let genFrom = Setting<String?>("gen_from", default: nil, help: "Folder with segments/script.txt + wavs to generate from.")
        public let useWandb = Setting("use_wandb", default: false, help: "Log to Weights & Biases (WANDB_API_KEY or .env).")
        // Extras.
        public let loraDropout = Setting("lora_dropout", default: 0.0, help: "LoRA dropout.")
        public let decoderFraction = Setting("decoder_fraction", default: 1.0, help: "Fraction of audio frames the depth decoder trains on (1 as HF; 1/16 in the CSM paper).")
        public let targetOnlyLoss = Setting("target_only_loss", default: false, help: "Only the last turn's audio is a target; context turns are conditioning only.")
        public let maskSpeakerIds = Setting("mask_speaker_ids", default: false, help: "Train without the [speaker] prefix in the text of every turn.")
        public let valFraction = Setting("val_fraction", default: 0.0, help: "Fraction of samples held out for validation; 0: none.")
        public let valEvery = Setting("val_every", default: 0, help: "Validation every N optimizer steps; 0: at each --save_every.")
        public let tokenBudget = Setting("token_budget", default: 0, help: "Length-bucketed batches of at most this many positions; 0: fixed --batch_size.")
        public let numContextTurns = Setting<Int?>("num_context_turns", default: nil, help: "Use at most this many context turns per sample.", unset: "as preprocessed")
        public let resume = Setting("resume", default: false, help: "Continue from the latest checkpoint in --output_dir.")
        public let device = Setting("device", default: "auto", help: "auto, cpu, cuda, cuda:N or mps (auto: CUDA, then MPS, then the CPU).")
        public let threads = Setting("threads", default: 0, help: "CPU threads for libtorch; 0: all cores.")
        public let logEvery = Setting("log_every", default: 1, help: "Accepted for configs that set it; every step is logged.")
        public let ddpTimeout = Setting("ddp_timeout", default: 1800.0, help: "Seconds a multi-process run waits for a peer (rendezvous, a collective) before failing; transformers' ddp_timeout.")
        public let baseDtype = Setting<String?>("base_dtype", default: nil, help: "LoRA's frozen base weights: bf16 (half the memory; bf16 products where the CPU/GPU has them; as Unsloth loads the seed's model) or f32 (transformers' f32 numerics exactly).", unset: "bf16")
        public let mixedPrecision = Setting("mixed_precision", default: "auto", help: "Compute dtype, as accelerate's --mixed_precision / HF's --bf16: bf16 (products, attention and activations in bf16 as torch.autocast; norms' statistics, the loss, LoRA weights and AdamW state in f32), no (f32), or auto: bf16 where the device multiplies bf16 natively (CUDA; CPUs with AVX512-BF16 or AMX), f32 elsewhere and with --base_dtype f32.")
        public let recomputeMlp = Setting("recompute_mlp", default: "all", help: "Recompute the decoder layers' MLP activations in backward instead of keeping them: all (38 % less peak memory for ~20 % more time on CSM-1B), depth (the depth decoder's, most of the activations) or none (fastest).")
        public let evalSpeechEvery = Setting("eval_speech_every", default: 0, help: "Every N optimizer steps, speak --eval_speech_sentences held-out sentences and log WER/CER (--asr_model) and speaker similarity (--speaker_model); 0 disables.")
        public let evalSpeechSentences = Setting("eval_speech_sentences", default: 8, help: "Sentences --eval_speech_every speaks: a fixed, seeded choice among the validation samples (all samples without --val_fraction).")
        public let asrModel = Setting<String?>("asr_model", default: nil, help: "ASR model (folder or hub id, e.g. openai/whisper-base) for --eval_speech_every's WER/CER.", unset: "no WER/CER")
        public let speakerModel = Setting<String?>("speaker_model", default: nil, help: "WavLMForXVector model (folder or hub id, e.g. microsoft/wavlm-base-plus-sv) for --eval_speech_every's speaker similarity.", unset: "no similarity")
    }
}

/// Every setting of `csm train` (declared in `TrainConfig.Settings`), each a typed property:
/// `config.batchSize` is an `Int`, `config.genFrom` a `String?`. Resolved as: defaults, then
/// `--config FILE.yaml`, then command-line flags.
///
/// The properties are dynamic members, so TrainConfig's own methods (and extensions) write `self.batchSize`:
/// Swift does not look dynamic members up through an implicit `self`.
@dynamicMemberLookup
public struct TrainConfig: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The declarations.
    public static let declared = Settings()
    /// The same, as a list in declaration order.
    public static let settings: [any TrainSetting] = Mirror(reflecting: declared).children.compactMap { $0.value as? any TrainSetting }

    /// The values set so far, by key; the other settings have their default.
    private var values: [String: any SettingValue] = [:]

    public init() {}

    /// `config.batchSize`: the value of the setting declared as `Settings.batchSize`.
    public subscript<Value: SettingValue>(dynamicMember setting: KeyPath<Settings, Setting<Value>>) -> Value {
        get { self[Self.declared[keyPath: setting]] }
        set { self[Self.declared[keyPath: setting]] = newValue }
    }

    subscript<Value: SettingValue>(setting: Setting<Value>) -> Value {
        get { values[setting.key].map { $0 as! Value } ?? setting.defaultValue }
        set { values.updateValue(newValue, forKey: setting.key) }
    }

    /// The YAML/JSON key names, as the seed spells them.
    public static var keys: [String] { settings.map(\.key) }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: SettingKey.self)
        for setting in Self.settings { try setting.decode(from: container, into: &self) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: SettingKey.self)
        for setting in Self.settings { try setting.encode(self, to: &container) }
    }

    public static func == (a: TrainConfig, b: TrainConfig) -> Bool {
        settings.allSatisfy { $0.value(in: a).isSame(as: $0.value(in: b)) }
    }

    public var description: String {
        "TrainConfig(" + Self.settings.map { "\($0.key): \($0.value(in: self).displayText ?? "nil")" }.joined(separator: ", ") + ")"
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
        guard self.preprocessedPath != nil else { throw ConfigError("--preprocessed_path is required (flag or config file)") }
        func need(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError(message) } }
        try need(self.batchSize >= 1, "--batch_size must be at least 1")
        try need(self.gradientAccumulationSteps >= 1, "--gradient_accumulation_steps must be at least 1")
        try need(self.learningRate > 0, "--learning_rate must be positive")
        try need(self.maxSteps > 0 || self.nEpochs > 0, "set --max_steps or a positive --n_epochs")
        try need(self.warmupSteps >= 0, "--warmup_steps must be ≥ 0")
        try need(["linear", "cosine", "constant", "constant_with_warmup"].contains(self.lrSchedulerType),
                 "--lr_scheduler_type must be linear, cosine, constant or constant_with_warmup (got \(self.lrSchedulerType))")
        try need(self.maxGradNorm >= 0, "--max_grad_norm must be ≥ 0 (0 disables clipping)")
        try need(self.loraR >= 1 || self.fullFinetune, "--lora_r must be at least 1")
        try need(!(self.fullFinetune && self.loadIn4bit), "--full_finetune and --load_in_4bit cannot be combined (4-bit weights are frozen)")
        try need(self.decoderFraction > 0 && self.decoderFraction <= 1, "--decoder_fraction must be in (0, 1]")
        try need(self.valFraction >= 0 && self.valFraction < 1, "--val_fraction must be in [0, 1)")
        try need(self.loraDropout >= 0 && self.loraDropout < 1, "--lora_dropout must be in [0, 1)")
        try need(self.ddpTimeout > 0, "--ddp_timeout must be positive (seconds)")
        try need(self.saveEvery >= 0 && self.genEvery >= 0, "--save_every and --gen_every must be ≥ 0 (0 disables)")
        try need(self.baseDtype == nil || ["f32", "bf16"].contains(self.baseDtype!), "--base_dtype must be f32 or bf16 (got \(self.baseDtype ?? ""))")
        try need(self.baseDtype == nil || !(self.fullFinetune || self.loadIn4bit),
                 "--base_dtype applies to LoRA's frozen base only, not with --full_finetune or --load_in_4bit")
        try need(self.evalSpeechEvery >= 0 && self.evalSpeechSentences >= 1,
                 "--eval_speech_every must be ≥ 0 (0 disables) and --eval_speech_sentences at least 1")
        try need(self.evalSpeechEvery == 0 || self.asrModel != nil || self.speakerModel != nil,
                 "--eval_speech_every needs --asr_model and/or --speaker_model (e.g. microsoft/wavlm-base-plus-sv)")
        try need(["auto", "bf16", "no"].contains(self.mixedPrecision), "--mixed_precision must be auto, bf16 or no (got \(self.mixedPrecision))")
        try need(["none", "depth", "all"].contains(self.recomputeMlp), "--recompute_mlp must be none, depth or all (got \(self.recomputeMlp))")
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
