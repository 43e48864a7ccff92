import Foundation
import Torch

/// Writing a complete Hugging Face CSM folder from a model in memory: what `--full_finetune` saves
/// and what `csm merge` exports. transformers' `CsmForConditionalGeneration.from_pretrained` loads it.
public enum FullModel {
    /// Files of a model folder that are not weights and travel unchanged with it (tokenizer, processor,
    /// generation defaults, chat template).
    public static let processorFiles = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
        "chat_template.json", "preprocessor_config.json", "processor_config.json", "generation_config.json",
    ]

    /// The checkpoint spelling of a parameter name (a tied audio table is stored under the depth decoder's key).
    public static func checkpointKey(_ name: String) -> String {
        name == CSMForConditionalGeneration.backboneAudioKey + ".weight"
            ? CSMForConditionalGeneration.depthEmbedKey + ".weight" : name
    }

    /// Writes `config.json` (the base's), `model.safetensors` with the model's current weights in
    /// `dtype` (nil: as held) plus the base checkpoint's `codec_model.*` weights, and the processor files.
    public static func save(_ model: CSMForConditionalGeneration, baseFolder: URL, to folder: URL, dtype: DType? = nil) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in model.stateDict() {
            var t = try tensor.detach()
            if let dtype, t.dtype != dtype { t = try t.to(dtype) }
            tensors[name] = try t.to(.cpu).contiguous()
        }
        let base = try WeightStore(folder: baseFolder)
        for key in base.keys where key.hasPrefix("codec_model.") {
            tensors[key] = try base.tensor(key)
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        // A sharded base leaves an index that would now point at missing shards.
        try? fm.removeItem(at: folder.appendingPathComponent("model.safetensors.index.json"))
        try copy("config.json", from: baseFolder, to: folder)
        try copyProcessorFiles(from: baseFolder, to: folder)
    }

    /// Copies the tokenizer/processor files the base folder has (missing ones are skipped).
    public static func copyProcessorFiles(from source: URL, to folder: URL) throws {
        for name in processorFiles where FileManager.default.fileExists(atPath: source.appendingPathComponent(name).path) {
            try copy(name, from: source, to: folder)
        }
    }

    static func copy(_ name: String, from source: URL, to folder: URL) throws {
        let from = source.appendingPathComponent(name).resolvingSymlinksInPath(), to = folder.appendingPathComponent(name)
        guard from.standardizedFileURL != to.standardizedFileURL else { return }
        try writeAtomically(Data(contentsOf: from), to: to)
    }
}
