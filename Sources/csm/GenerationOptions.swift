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
