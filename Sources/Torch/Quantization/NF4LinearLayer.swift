/// bitsandbytes' `Linear4bit`: a frozen `Linear` whose weight lives only as NF4 codes (QLoRA's base),
/// about 0.52 bytes per weight instead of 2 or 4. Multiplied by `nf4Linear`, which dequantizes per call;
/// gradients reach `x` and `bias`, never the codes.
public final class NF4Linear: LinearLayer {
    public let weight: NF4Tensor
    public var bias: Tensor?
    public let inFeatures: Int
    public let outFeatures: Int

    /// `dense`'s weight quantized to NF4 in blocks of `blockSize`, with the block scales
    /// double-quantized as Unsloth's default. The dense copy goes with `dense` once nothing holds it.
    public init(_ dense: Linear, blockSize: Int = NF4Tensor.defaultBlockSize, doubleQuant: Bool = true) throws {
        weight = try NF4Tensor.quantize(dense.weight, blockSize: blockSize, doubleQuant: doubleQuant)
        bias = dense.bias
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
    }

    public var device: Device { weight.device }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try nf4Linear(x, weight: weight, bias: bias) }
}
