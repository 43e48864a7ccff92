import ArgumentParser
import CSM
import Foundation
import Hub
import Torch

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a model folder whose backbone and depth-decoder projections are stored int8 or int4.",
        discussion: """
            The same weight-only quantization `csm generate --quantize` applies at load, done once: the folder \
            (model.safetensors with the codes and scales in place of those projections' weights, quantization.json, \
            config and tokenizer files) loads in `csm generate --model_id DIR` without quantizing again. Embeddings, \
            norms, the heads and the codec are copied as stored. int4 folders hold libtorch's CPU packing and run on \
            CPU only. transformers cannot load these folders.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Model folder or Hugging Face hub id.")
    var modelId: String = "unsloth/csm-1b"

    @Option(help: "int8 (per-output-channel symmetric) or int4 (group-wise asymmetric).")
    var quantize: String

    @Option(name: [.customLong("group_size"), .customLong("group-size")],
            help: "Group size of int4: 32, 64, 128 or 256.")
    var groupSize: Int = Int4Linear.defaultGroupSize

    @Option(help: "Folder to write the quantized model to.")
    var output: String

    func validate() throws {
        do { _ = try WeightQuantization(name: quantize, groupSize: groupSize) } catch let e as TorchError {
            throw ValidationError("--quantize/--group_size: \(e.message)")
        }
    }

    func run() throws {
        let scheme = try WeightQuantization(name: quantize, groupSize: groupSize)
        let base = try ModelLocator.resolve(modelId)
        let out = URL(fileURLWithPath: output)
        try OutputPath.checkFolder(output, flag: "--output", notSameAs: base, what: "the base model folder")
        let start = Date()
        let model = try CSMForConditionalGeneration.load(folder: base, device: .cpu)
        let report = try model.quantizeProjections(scheme)
        try QuantizedFolder.save(model, scheme: scheme, baseFolder: base, to: out)
        print(String(format: "quantized %d projections of %@ to %@ (%.1f → %.1f MB%@) in %.1f s → %@", report.quantized,
                     modelId, scheme.description, Double(report.bytesBefore) / 1e6, Double(report.bytesAfter) / 1e6,
                     report.skipped.isEmpty ? "" : "; \(report.skipped.count) kept dense", Date().timeIntervalSince(start),
                     out.path))
    }
}
