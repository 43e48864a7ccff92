import Foundation
import Torch

/// Which Linear layers get adapters and how (PEFT `LoraConfig` subset that CSM training uses).
public struct LoRAConfig: Equatable, Sendable {
    public var rank: Int
    public var alpha: Double
    public var dropout: Double
    /// Projection names to adapt inside each decoder layer of the backbone and the depth decoder.
    public var targetNames: [String]

    public static let defaultTargets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    public init(rank: Int = 16, alpha: Double = 32, dropout: Double = 0, targetNames: [String] = Self.defaultTargets) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targetNames = targetNames
    }

    /// PEFT `target_modules` as a full-match regex over module paths. Anchored to the decoder layers of the
    /// backbone and depth decoder, so the codec's own q/k/v/o projections are never matched.
    public var targetRegex: String {
        let attention = targetNames.filter { ["q_proj", "k_proj", "v_proj", "o_proj"].contains($0) }
        let mlp = targetNames.filter { ["gate_proj", "up_proj", "down_proj"].contains($0) }
        var alternatives = [String]()
        if !attention.isEmpty { alternatives.append("self_attn\\.(\(attention.joined(separator: "|")))") }
        if !mlp.isEmpty { alternatives.append("mlp\\.(\(mlp.joined(separator: "|")))") }
        return "(backbone_model\\.layers\\.\\d+|depth_decoder\\.model\\.layers\\.\\d+)\\.(\(alternatives.joined(separator: "|")))"
    }

    func validate() throws {
        guard rank > 0 else { throw CSMError.invalidAdapter("rank must be > 0, got \(rank)") }
        guard (0..<1).contains(dropout) else { throw CSMError.invalidAdapter("dropout must be in [0, 1), got \(dropout)") }
        let known = Set(Self.defaultTargets)
        if let bad = targetNames.first(where: { !known.contains($0) }) {
            throw CSMError.invalidAdapter("unknown LoRA target '\(bad)' (choose from \(Self.defaultTargets.joined(separator: ", ")))")
        }
        guard !targetNames.isEmpty else { throw CSMError.invalidAdapter("no LoRA target modules") }
    }
}

/// True when `regex` matches the whole of `path` (PEFT's `re.fullmatch` for a string `target_modules`).
func fullMatch(_ regex: NSRegularExpression, _ path: String) -> Bool {
    let range = NSRange(path.startIndex..., in: path)
    guard let m = regex.firstMatch(in: path, options: [.anchored], range: range) else { return false }
    return m.range == range
}

extension LinearSlot {
    /// The layer computing the frozen product: the slot's own, or the one its LoRA wrapper adds to.
    /// Assigning replaces that layer and keeps the wrapper, so the base can be narrowed or quantized
    /// before or after an adapter is attached.
    public var base: any LinearLayer {
        get { (layer as? LoRALinear)?.base ?? layer }
        nonmutating set {
            if let lora = layer as? LoRALinear { lora.base = newValue } else { layer = newValue }
        }
    }
}

extension CSMForConditionalGeneration {
    /// The adapters now attached, by module path.
    public var loraAdapters: [(path: String, lora: LoRALinear)] {
        linearSlots.compactMap { slot in (slot.layer as? LoRALinear).map { (slot.path, $0) } }
    }

    /// Wraps the layers `config` targets in fresh adapters (replacing any adapter there); returns their paths.
    @discardableResult
    public func applyLoRA(_ config: LoRAConfig, dtype: DType = .f32) throws -> [String] {
        try config.validate()
        let regex = try NSRegularExpression(pattern: config.targetRegex)
        var paths = [String]()
        for slot in linearSlots where fullMatch(regex, slot.path) {
            let lora = try LoRALinear(wrapping: slot.base, rank: config.rank, alpha: config.alpha,
                                      dropout: config.dropout, dtype: dtype)
            lora.compute = computeDType
            slot.layer = lora
            paths.append(slot.path)
        }
        return paths
    }

    /// Trainable LoRA tensors by PEFT's saved names (`<path>.lora_A.weight`).
    public var loraParameters: [(name: String, tensor: Tensor)] {
        loraAdapters.flatMap { [("\($0.path).lora_A.weight", $0.lora.a), ("\($0.path).lora_B.weight", $0.lora.b)] }
    }

    /// Switches adapter dropout on or off.
    public func setTraining(_ on: Bool) { for (_, l) in loraAdapters { l.training = on } }

    /// Folds every adapter into its base weight (W += scale·B·A, in the weight's dtype) and puts the base
    /// back in its slot.
    public func mergeLoRA() throws {
        for slot in linearSlots {
            guard let lora = slot.layer as? LoRALinear else { continue }
            slot.layer = try lora.merged()
        }
    }

    /// PEFT's `print_trainable_parameters` line.
    public func trainableParametersSummary(trainable: Int? = nil) -> String {
        let lora = loraParameters.reduce(0) { $0 + $1.tensor.count }
        let t = trainable ?? lora
        let all = parameterCount + lora
        return String(format: "trainable params: %d || all params: %d || trainable%%: %.4f", t, all,
                      100 * Double(t) / Double(max(all, 1)))
    }
}
