import Foundation

/// Turns a `csm` subcommand's `--model_id` into a local folder holding a complete CSM checkpoint.
///
///     let folder = try ModelLocator.resolve(modelId)   // "sesame/csm-1b", "sesame/csm-1b@<commit>" or a folder
///
/// A folder is used as is. A hub id brings in the files a CSM checkpoint consists of: the config, the weights
/// (`model.safetensors`, or `model.safetensors.index.json` and every shard it lists) and the tokenizer, plus the
/// generation, processor and template files when the repository has them.
public enum ModelLocator {
    public static let requiredFiles = ["config.json", "tokenizer.json"]
    public static let optionalFiles = [
        "generation_config.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
        "preprocessor_config.json", "processor_config.json",
    ]
    public static let singleWeights = "model.safetensors"
    public static let weightIndex = "model.safetensors.index.json"

    public static func resolve(_ modelId: String, configuration: HubConfiguration? = nil) throws -> URL {
        if let folder = try localFolder(modelId) { return folder }
        let configuration = try configuration ?? .fromEnvironment()
        // Small files first; the index (if any) then says which weight files to fetch.
        let folder = try resolveModel(modelId, files: requiredFiles, optional: optionalFiles + [weightIndex],
                                      configuration: configuration)
        let index = folder.appendingPathComponent(weightIndex)
        let weights = FileManager.default.fileExists(atPath: index.path) ? try shards(listedIn: index) : [singleWeights]
        return try resolveModel(modelId, files: requiredFiles + weights, optional: optionalFiles + [weightIndex],
                                configuration: configuration)
    }

    /// The distinct shard files of a `model.safetensors.index.json` (`weight_map` values), in name order.
    static func shards(listedIn index: URL) throws -> [String] {
        guard let data = try? Data(contentsOf: index),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw HubError.invalidIndex(file: index.path, reason: "not a JSON object") }
        guard let map = json["weight_map"] as? [String: String], !map.isEmpty else {
            throw HubError.invalidIndex(file: index.path, reason: "no 'weight_map' of tensor name → shard file")
        }
        let files = Set(map.values).sorted()
        for file in files {
            guard (try? HubCache.validate(file: file)) != nil, file.hasSuffix(".safetensors") else {
                throw HubError.invalidIndex(file: index.path, reason: "shard '\(file)' is not a .safetensors file name")
            }
        }
        return files
    }
}
