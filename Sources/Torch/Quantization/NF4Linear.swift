import CTorch

/// `x Wᵀ + b` with a frozen NF4 weight (QLoRA's base layer, bitsandbytes' `Linear4bit`).
///
/// The weight is dequantized to the dtype of `x` for the product and dropped right after; backward
/// dequantizes it again rather than keeping it (bitsandbytes' `MatMul4Bit`), so only the 4-bit codes stay
/// resident between forward and backward. Gradients flow to `x` — and so to a LoRA pair applied on top —
/// and to `bias`, never into the codes. The bias is cast to the compute dtype, as `Linear4bit` does.
public func nf4Linear(_ x: Tensor, weight: NF4Tensor, bias: Tensor? = nil) throws -> Tensor {
    guard weight.shape.count == 2 else {
        throw TorchError("nf4Linear: the weight must be (out, in), got shape \(weight.shape)")
    }
    let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
    guard x.rank >= 1, x.size(-1) == inFeatures else {
        throw TorchError("nf4Linear: input of shape \(x.shape) does not end in the weight's \(inFeatures) input features")
    }
    if let bias, bias.shape != [outFeatures] {
        throw TorchError("nf4Linear: bias of shape \(bias.shape) does not match \(outFeatures) output features")
    }
    // Double-quantized scales are expanded here, once per call; the float32 copy (4 bytes per 64
    // weights) is what backward keeps, next to the 4-bit codes.
    let absmax = try weight.absmax
    let y = try linearWithWeightOnDemand(x, compute: x.dtype) { try weight.decode(absmax: absmax, to: .f32) }
    guard let bias else { return y }
    return try y + (bias.dtype == x.dtype ? bias : bias.to(x.dtype))
}

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
