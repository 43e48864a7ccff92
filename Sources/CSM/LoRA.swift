import Foundation
import Torch

/// PEFT's LoRA on a Linear layer: y = base(x) + B(A(dropout(x))) · alpha/r, A (r, in), B (out, r).
/// Fresh adapters start as PEFT's: A Kaiming-uniform with a = √5 (bound 1/√in), B zeros, so the model
/// is unchanged until B learns.
public final class LoRA: LinearAdapter {
    /// `lora_A.weight` (r, in) and `lora_B.weight` (out, r).
    public var a: Tensor
    public var b: Tensor
    public let scale: Double
    public let dropout: Double
    /// Dropout is active only while training (as nn.Dropout in train mode).
    public var training = false

    public var rank: Int { a.size(0) }

    public init(a: Tensor, b: Tensor, scale: Double, dropout: Double = 0) {
        self.a = a
        self.b = b
        self.scale = scale
        self.dropout = dropout
    }

    /// A new adapter for `linear` with PEFT's default initialisation (uses libtorch's generator: seed it
    /// with `Runtime.manualSeed` for reproducible runs).
    public convenience init(for linear: Linear, rank r: Int, alpha: Double, dropout: Double = 0,
                            dtype: DType = .f32) throws {
        let fanIn = linear.inFeatures
        let a = try Tensor.empty([r, fanIn], dtype: dtype, device: linear.weight.device)
        // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound gain·√(3/fan_in) = 1/√fan_in
        let bound = 1 / Double(fanIn).squareRoot()
        try a.uniform_(-bound, bound)
        let b = try Tensor.zeros([linear.outFeatures, r], dtype: dtype, device: linear.weight.device)
        self.init(a: try a.requiresGrad(true), b: try b.requiresGrad(true), scale: alpha / Double(r), dropout: dropout)
    }

    public func callAsFunction(_ x: Tensor, base: Tensor) throws -> Tensor {
        let h = try x.to(a.dtype).dropout(dropout, training: training)
        guard base.dtype == a.dtype else { return try base + (h.linear(a).linear(b) * scale).to(base.dtype) }
        // One pass over the (…, out) output instead of three (B's product, the scaling, the sum): at the
        // depth decoder's 9600 positions × 8192 outputs each pass is 315 MB.
        let out = base.size(-1)
        return try base.reshape([-1, out]).addmm(h.linear(a).reshape([-1, rank]), b.transpose(0, 1), alpha: scale)
            .reshape(base.shape)
    }

    /// ΔW = scale · B A, shaped like the base weight (out, in).
    public func delta() throws -> Tensor { try b.matmul(a) * scale }
}

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

extension CSMForConditionalGeneration {
    /// The adapters now attached, by module path.
    public var loraAdapters: [(path: String, lora: LoRA)] {
        namedLinears.compactMap { path, l in (l.adapter as? LoRA).map { (path, $0) } }
    }

    /// Attaches fresh adapters to the layers `config` targets; returns their paths.
    @discardableResult
    public func applyLoRA(_ config: LoRAConfig, dtype: DType = .f32) throws -> [String] {
        try config.validate()
        let regex = try NSRegularExpression(pattern: config.targetRegex)
        var paths = [String]()
        for (path, linear) in namedLinears where fullMatch(regex, path) {
            linear.adapter = try LoRA(for: linear, rank: config.rank, alpha: config.alpha, dropout: config.dropout, dtype: dtype)
            paths.append(path)
        }
        return paths
    }

    /// Trainable LoRA tensors by PEFT's saved names (`<path>.lora_A.weight`).
    public var loraParameters: [(name: String, tensor: Tensor)] {
        loraAdapters.flatMap { [("\($0.path).lora_A.weight", $0.lora.a), ("\($0.path).lora_B.weight", $0.lora.b)] }
    }

    /// Switches adapter dropout on or off.
    public func setTraining(_ on: Bool) { for (_, l) in loraAdapters { l.training = on } }

    /// Folds every adapter into its base weight (W += scale·B·A, in the weight's dtype) and detaches it.
    public func mergeLoRA() throws {
        try withNoGrad {
            for (_, linear) in namedLinears {
                guard let lora = linear.adapter as? LoRA else { continue }
                let w = linear.weight
                linear.weight = try (w.to(.f32) + lora.delta().to(.f32)).to(w.dtype)
                linear.adapter = nil
            }
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
