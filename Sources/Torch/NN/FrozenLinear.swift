import CTorch
import Foundation

/// How a frozen weight held in a narrower dtype than the activations (bf16 under f32) enters `x Wᵀ`.
public enum FrozenProduct: String, Sendable, CaseIterable {
    /// W is widened to x's dtype for each product: f32 arithmetic on bf16-rounded weights.
    case upcast
    /// The product runs in W's dtype with f32 accumulation (x rounded to bf16, the result widened back):
    /// about 2.3× the f32 speed where the hardware multiplies bf16 (AVX512-BF16/AMX CPUs, CUDA).
    case native

    /// `native` where `device` multiplies bf16 in hardware, `upcast` where libtorch would emulate it
    /// (slower than f32).
    public static func fastest(on device: Device) -> FrozenProduct {
        device.hasBF16Arithmetic ? .native : .upcast
    }

    /// Whether this CPU has bf16 dot-product instructions (x86 AVX512-BF16 or AMX-BF16; Linux flags).
    static let cpuHasBF16: Bool = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " "))
        return set.contains("avx512_bf16") || set.contains("amx_bf16")
    }()
}

/// `x Wᵀ + b` for a frozen `weight` stored narrower than `x` (LoRA's bf16 base under f32 activations).
///
/// Autograd keeps only `weight`, which is resident anyway; a plain `x.linear(weight.to(x.dtype))` would
/// keep the widened copy from forward to backward, undoing the saving (`linearWithWeightOnDemand`). Gradients flow to `x` (and so to
/// a LoRA pair on top) and to `bias`, never into `weight`.
public func frozenLinear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, product: FrozenProduct) throws -> Tensor {
    guard weight.rank == 2, x.rank >= 1, x.size(-1) == weight.size(1) else {
        throw TorchError("frozenLinear: input of shape \(x.shape) does not fit a weight of shape \(weight.shape)")
    }
    guard !weight.requiresGrad else {
        throw TorchError("frozenLinear: the weight is trainable; its gradient would be lost")
    }
    let y = try linearWithWeightOnDemand(x, compute: product == .native ? weight.dtype : x.dtype) { weight }
    guard let bias else { return y }
    return try y + (bias.dtype == x.dtype ? bias : bias.to(x.dtype))
}

/// A frozen `Linear` whose weight is held in a narrower dtype than the activations (LoRA's bf16 base
/// under f32 training): half the memory of the weights that dominate the model, multiplied by
/// `frozenLinear` so that autograd keeps no widened copy. Gradients reach `x` and `bias`, never W.
public final class FrozenLinear: LinearLayer {
    /// W (out, in) in the narrower dtype; frozen (see `frozenLinear`).
    public var weight: Tensor
    public var bias: Tensor?
    /// How W meets activations of another dtype.
    public let product: FrozenProduct
    public let inFeatures: Int
    public let outFeatures: Int

    /// `dense`'s weight held in `dtype`. A weight borrowed from a memory-mapped file gives its pages back,
    /// as nothing reads the wide copy again; one already in `dtype` is kept as it is.
    public init(_ dense: Linear, dtype: DType, product: FrozenProduct) throws {
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
        bias = dense.bias
        self.product = product
        if dense.weight.dtype == dtype {
            weight = dense.weight
        } else {
            weight = try dense.weight.detach().to(dtype)
            try? dense.weight.releaseMappedPages()  // throws for owned memory, which is freed with the tensor instead
        }
    }

    public var device: Device { weight.device }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        // Activations in W's own dtype (a bf16 model) need no bridging.
        guard weight.dtype != x.dtype else { return try x.linear(weight, bias: bias) }
        return try frozenLinear(x, weight: weight, bias: bias, product: product)
    }
}
