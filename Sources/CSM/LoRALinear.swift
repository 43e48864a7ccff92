import Foundation
import Torch

/// PEFT's `LoraLayer` on a linear layer: y = base(x) + B(A(dropout(x))) · alpha/r, A (r, in), B (out, r).
/// `base` is any `LinearLayer` (dense, bf16-frozen or NF4: QLoRA) and stays frozen; only A and B train.
/// Fresh adapters start as PEFT's: A Kaiming-uniform with a = √5 (bound 1/√in), B zeros, so the model
/// is unchanged until B learns.
public final class LoRALinear: LinearLayer {
    /// Replaceable, so that the frozen base can be narrowed or quantized after the adapter is attached.
    public var base: any LinearLayer
    /// `lora_A.weight` (r, in) and `lora_B.weight` (out, r).
    public var a: Tensor
    public var b: Tensor
    public let scale: Double
    public let dropout: Double
    /// Dropout is active only while training (as nn.Dropout in train mode).
    public var training = false
    /// The dtype of the adapter's products under mixed precision (bf16 as autocast); nil: A's own dtype.
    public var compute: DType?

    public var rank: Int { a.size(0) }
    public var inFeatures: Int { base.inFeatures }
    public var outFeatures: Int { base.outFeatures }
    public var bias: Tensor? {
        get { base.bias }
        set { base.bias = newValue }
    }
    public var device: Device { base.device }

    public init(base: any LinearLayer, a: Tensor, b: Tensor, scale: Double, dropout: Double = 0) {
        self.base = base
        self.a = a
        self.b = b
        self.scale = scale
        self.dropout = dropout
    }

    /// A new adapter on `base` with PEFT's default initialisation (uses libtorch's generator: seed it
    /// with `Runtime.manualSeed` for reproducible runs).
    public convenience init(wrapping base: any LinearLayer, rank r: Int, alpha: Double, dropout: Double = 0,
                            dtype: DType = .f32) throws {
        let fanIn = base.inFeatures
        let a = try Tensor.empty([r, fanIn], dtype: dtype, device: base.device)
        // kaiming_uniform_(a=√5): gain √(2/(1+5)), bound gain·√(3/fan_in) = 1/√fan_in
        let bound = 1 / Double(fanIn).squareRoot()
        try a.uniform_(-bound, bound)
        let b = try Tensor.zeros([base.outFeatures, r], dtype: dtype, device: base.device)
        self.init(base: base, a: try a.requiresGrad(true), b: try b.requiresGrad(true), scale: alpha / Double(r),
                  dropout: dropout)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try base(x)
        // PEFT casts x to the adapter's dtype; under autocast the products then run in the compute dtype
        // (A and B cast for them, their gradients arriving in the adapter's dtype).
        let dtype = compute ?? a.dtype
        let (a, b) = (try a.autocast(dtype), try b.autocast(dtype))
        let h = try x.to(dtype).dropout(dropout, training: training)
        guard y.dtype == dtype else { return try y + (h.linear(a).linear(b) * scale).to(y.dtype) }
        // One pass over the (…, out) output instead of three (B's product, the scaling, the sum): at the
        // depth decoder's 9600 positions × 8192 outputs each pass is 315 MB.
        let out = y.size(-1)
        return try y.reshape([-1, out]).addmm(h.linear(a).reshape([-1, rank]), b.transpose(0, 1), alpha: scale)
            .reshape(y.shape)
    }

    /// ΔW = scale · B A, shaped like the base weight (out, in).
    public func delta() throws -> Tensor { try b.matmul(a) * scale }

    /// The base with ΔW folded into its weight (in the weight's dtype, summed in f32), to use in place of
    /// this wrapper. NF4 codes cannot take it: merge into the dense model instead.
    public func merged() throws -> any LinearLayer {
        try withNoGrad {
            if let dense = base as? Linear {
                dense.weight = try fold(into: dense.weight)
            } else if let frozen = base as? FrozenLinear {
                frozen.weight = try fold(into: frozen.weight)
            } else {
                throw CSMError.invalidAdapter("cannot merge LoRA into a \(type(of: base)) base; merge into the dense model")
            }
        }
        return base
    }

    private func fold(into w: Tensor) throws -> Tensor { try (w.to(.f32) + delta().to(.f32)).to(w.dtype) }
}
