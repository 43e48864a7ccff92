import ArgumentParser
import Foundation
import CSM
import Torch

/// `--temperature` and `--topk`, the same in `csm generate` and `csm serve` (both override generation_config.json
/// for the backbone and the depth decoder).
struct SamplingOptions: ParsableArguments {
    @Option(help: "Sampling temperature (default: generation_config.json, else 0.9).")
    var temperature: Double?

    @Option(name: [.customLong("topk"), .customLong("top_k"), .customLong("top-k")],
            help: "Top-k filter; 1 is greedy (default: generation_config.json, else 50).")
    var topk: Int?

    /// The checkpoint's generation settings with these overrides applied.
    func settings(folder: URL) throws -> GenerationSettings {
        try GenerationSettings.load(folder: folder).overriding(temperature: temperature, topK: topk)
    }
}

/// `--quantize` and `--group_size` of `csm generate` and `csm serve`: weight-only quantized projections at load.
struct QuantizationOptions: ParsableArguments {
    @Option(help: "Weight-only quantized backbone and depth-decoder projections: int8 (per-channel) or int4 (group-wise, CPU only); quantized at load.")
    var quantize: String?

    @Option(name: [.customLong("group_size"), .customLong("group-size")],
            help: "Group size of --quantize int4: 32, 64, 128 or 256.")
    var groupSize: Int = Int4Linear.defaultGroupSize

    func validate() throws { _ = try scheme() }

    /// The scheme asked for, nil without `--quantize`; a bad name or group size is a usage error.
    func scheme() throws -> WeightQuantization? {
        guard let quantize else { return nil }
        do { return try WeightQuantization(name: quantize, groupSize: groupSize) } catch let e as TorchError {
            throw ValidationError("--quantize/--group_size: \(e.message)")
        }
    }
}

/// `--mask_speaker_ids` for the commands that lay prompts out for a trained model (eval, generate, serve).
struct SpeakerMaskingOption: ParsableArguments {
    @Flag(name: [.customLong("mask_speaker_ids"), .customLong("mask-speaker-ids")],
          help: "The model was trained with --mask_speaker_ids: lay every turn's text out without the [K] prefix, as it was trained (csm eval on a preprocessed set needs the raw dataset the set was made from).")
    var maskSpeakerIds = false
}
