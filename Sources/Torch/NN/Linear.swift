/// `torch.nn.Linear`: y = x Wᵀ + b with a dense weight (out, in) under `weight`, bias under `bias`.
/// The trainable, mergeable form; frozen narrower or quantized copies are layers of their own
/// (`FrozenLinear`, `NF4Linear`) built from one of these.
public final class Linear: LinearLayer {
    public var weight: Tensor
    public var bias: Tensor?
    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ vb: VarBuilder, inFeatures: Int, outFeatures: Int, bias: Bool = true) throws {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = try vb.get("weight", shape: [outFeatures, inFeatures])
        self.bias = bias ? try vb.get("bias", shape: [outFeatures]) : nil
    }

    public var device: Device { weight.device }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.dtype != weight.dtype, x.dtype.byteSize < weight.dtype.byteSize else { return try x.linear(weight, bias: bias) }
        // Narrower activations (bf16 compute over f32 weights): the product runs in x's dtype, as under
        // autocast. A frozen weight is cast per use, forward and backward, so no narrowed copy is kept in
        // between; a trainable one through an autograd cast, so its gradient arrives in f32.
        let b = try bias?.autocast(x.dtype)
        if weight.requiresGrad { return try x.linear(weight.autocast(x.dtype), bias: b) }
        let y = try linearWithWeightOnDemand(x, compute: x.dtype) { [weight] in weight }
        return try b.map { try y + $0 } ?? y
    }
}
