/// Mixed precision as `torch.autocast(dtype=torch.bfloat16)` / HF's `--bf16` keeps it, made explicit: a
/// module given a compute dtype casts what enters its products (linear, matmul, attention) to it, and
/// everything else follows the dtypes that arrive (f32 embeddings, f32 residual stream where the input
/// was f32, f32 RMSNorm statistics, the loss in f32). Weights stay as stored; a cast of a trainable one
/// carries its gradient back to it in its own dtype, as autocast's does.
extension Tensor {
    /// This tensor in `compute` for a product; itself when `compute` is nil or already its dtype.
    public func autocast(_ compute: DType?) throws -> Tensor {
        guard let compute, compute != dtype, dtype.isFloatingPoint else { return self }
        return try to(compute)
    }
}

extension Device {
    /// Whether products in bf16 run natively here (faster than f32) rather than emulated (converted to f32
    /// and back, slower): CUDA, and CPUs with AVX512-BF16 or AMX-BF16. MPS is counted out (libtorch's
    /// bf16 MPS coverage is partial).
    public var hasBF16Arithmetic: Bool {
        switch self {
        case .cuda: return true
        case .mps: return false
        case .cpu: return FrozenProduct.cpuHasBF16
        }
    }
}
