import Foundation
import Torch

/// Reading and writing LoRA adapters in PEFT's folder format: `adapter_config.json` and
/// `adapter_model.safetensors` with keys `base_model.model.<module path>.lora_A.weight` / `lora_B.weight`.
public enum PEFTAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    static let keyPrefix = "base_model.model."

    /// Writes the model's adapters. `target_modules` is the regex of `config`, limited to the backbone and
    /// depth decoder; the remaining fields are PEFT's defaults so `PeftModel.from_pretrained` loads it unchanged.
    public static func save(_ model: CSMForConditionalGeneration, config: LoRAConfig, to folder: URL,
                            baseModel: String? = nil) throws {
        let adapters = model.loraAdapters
        guard !adapters.isEmpty else { throw CSMError.invalidAdapter("the model has no LoRA adapters to save") }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tensors = [String: Tensor]()
        for (path, lora) in adapters {
            tensors[keyPrefix + path + ".lora_A.weight"] = try lora.a.detach().contiguous()
            tensors[keyPrefix + path + ".lora_B.weight"] = try lora.b.detach().contiguous()
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent(weightsFile))
        let json: [String: Any] = [
            "peft_type": "LORA", "task_type": NSNull(), "base_model_name_or_path": baseModel.map { $0 as Any } ?? NSNull(),
            "r": config.rank, "lora_alpha": config.alpha, "lora_dropout": config.dropout,
            "target_modules": config.targetRegex, "bias": "none", "fan_in_fan_out": false,
            "use_rslora": false, "use_dora": false, "init_lora_weights": true, "inference_mode": true,
            "modules_to_save": NSNull(), "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](),
            "layers_to_transform": NSNull(), "layers_pattern": NSNull(), "revision": NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(data, to: folder.appendingPathComponent(configFile))
    }

    /// Attaches the adapters of a PEFT folder (ours or PEFT's) to `model`; returns the LoRA settings read.
    @discardableResult
    public static func load(_ folder: URL, into model: CSMForConditionalGeneration) throws -> LoRAConfig {
        let configURL = folder.appendingPathComponent(configFile)
        guard let json = try? JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] else {
            throw CSMError.invalidAdapter("\(configURL.path) is missing or not JSON (expected a PEFT adapter folder)")
        }
        guard (json["peft_type"] as? String ?? "LORA") == "LORA" else {
            throw CSMError.invalidAdapter("\(configURL.path): peft_type \(json["peft_type"]!) is not LORA")
        }
        for flag in ["use_dora", "fan_in_fan_out", "use_rslora"] where json[flag] as? Bool == true {
            throw CSMError.invalidAdapter("\(configURL.path): \(flag)=true is not supported")
        }
        for pattern in ["rank_pattern", "alpha_pattern"] {
            if let p = json[pattern] as? [String: Any], !p.isEmpty {
                throw CSMError.invalidAdapter("\(configURL.path): a non-empty \(pattern) is not supported")
            }
        }
        guard let r = json["r"] as? Int, let alpha = (json["lora_alpha"] as? NSNumber)?.doubleValue else {
            throw CSMError.invalidAdapter("\(configURL.path): needs integer 'r' and numeric 'lora_alpha'")
        }
        let dropout = (json["lora_dropout"] as? NSNumber)?.doubleValue ?? 0
        let weights = try Safetensors.read(folder.appendingPathComponent(weightsFile))
        let slots = Dictionary(uniqueKeysWithValues: model.linearSlots.map { ($0.path, $0) })
        var found = Set<String>()
        for key in weights.keys.sorted() {
            guard key.hasPrefix(keyPrefix), key.hasSuffix(".lora_A.weight") || key.hasSuffix(".lora_B.weight") else {
                throw CSMError.invalidAdapter("\(weightsFile): unexpected key '\(key)' (only LoRA A/B weights are supported)")
            }
            found.insert(String(key.dropFirst(keyPrefix.count).dropLast(".lora_A.weight".count)))
        }
        var names = Set<String>()
        for path in found.sorted() {
            guard let slot = slots[path] else {
                throw CSMError.invalidAdapter("\(weightsFile): '\(path)' is not a Linear layer of this model")
            }
            guard let a = weights[keyPrefix + path + ".lora_A.weight"], let b = weights[keyPrefix + path + ".lora_B.weight"] else {
                throw CSMError.invalidAdapter("\(weightsFile): '\(path)' needs both lora_A and lora_B")
            }
            let base = slot.base  // an adapter already there is replaced, not stacked
            guard a.shape == [r, base.inFeatures], b.shape == [base.outFeatures, r] else {
                throw CSMError.invalidAdapter("\(weightsFile): '\(path)' has A \(a.shape), B \(b.shape); expected "
                    + "[\(r), \(base.inFeatures)] and [\(base.outFeatures), \(r)] for r=\(r)")
            }
            slot.layer = LoRALinear(base: base, a: try a.to(base.device, dtype: .f32), b: try b.to(base.device, dtype: .f32),
                                    scale: alpha / Double(r), dropout: dropout)
            names.insert(String(path.split(separator: ".").last!))
        }
        guard !found.isEmpty else { throw CSMError.invalidAdapter("\(weightsFile) holds no LoRA weights") }
        return LoRAConfig(rank: r, alpha: alpha, dropout: dropout,
                          targetNames: LoRAConfig.defaultTargets.filter { names.contains($0) })
    }
}
