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

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.linear(weight, bias: bias) }
}
