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
