/// Weight-only int8 `x Wᵀ + b` for inference (`csm generate --quantize int8`): W held as int8 codes with
/// one float32 scale per output channel, multiplied by libtorch's `_weight_int8pack_mm` (the int8 codes
/// are widened inside the kernel; activations stay in their float dtype).
///
/// Quantization (symmetric, per output channel, as torchao's `int8_weight_only`, with the range kept
/// symmetric): `scale[n] = max_k |W[n, k]| / 127`, `code[n, k] = round(W[n, k] / scale[n])` in −127…127
/// (half to even; an all-zero row gets scale 1 and codes 0). Dequantized `W'[n, k] = code[n, k] · scale[n]`;
/// the error per weight is at most scale/2, i.e. 1/254 of the row's largest magnitude.
public final class Int8Linear: LinearLayer {
    /// int8 (out, in).
    public let codes: Tensor
    /// float32 (out): the per-channel scales.
    public let scales: Tensor
    public var bias: Tensor?
    public let inFeatures: Int
    public let outFeatures: Int
    private var kernelScales: DTypeCopies

    /// `dense`'s weight quantized as described above.
    public init(_ dense: Linear) throws {
        let w = try dense.weight.detach().to(.f32)
        let amax = try w.abs().max([1], keepDim: true)
        // An all-zero row: scale 1 (codes 0), so that the division below stays finite.
        let scale = try Tensor.where(amax.eq(0), amax + 1, amax / 127)
        codes = try (w / scale).round().clamp(min: -127, max: 127).to(.i8)
        scales = try scale.reshape([-1])
        kernelScales = DTypeCopies(scales)
        bias = dense.bias
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
    }

    /// Stored codes and scales (a quantized folder).
    public init(codes: Tensor, scales: Tensor, bias: Tensor?) throws {
        guard codes.rank == 2, codes.dtype == .i8, scales.shape == [codes.size(0)] else {
            throw TorchError("Int8Linear: codes must be int8 (out, in) and scales (out), got \(codes.dtype) "
                + "\(codes.shape) and \(scales.shape)")
        }
        self.codes = codes
        self.scales = try scales.to(.f32)
        kernelScales = DTypeCopies(self.scales)
        self.bias = bias
        outFeatures = codes.size(0)
        inFeatures = codes.size(1)
    }

    public var device: Device { codes.device }

    /// Bytes held by the weight: one per element plus 4 per output channel.
    public var byteCount: Int { codes.count + scales.count * 4 }

    /// W' = code · scale in float32 (what the kernel multiplies by, for tests and fidelity checks).
    public func dequantized() throws -> Tensor { try codes.to(.f32) * scales.unsqueeze(1) }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.size(-1) == inFeatures else {
            throw TorchError("Int8Linear: input of shape \(x.shape) does not end in \(inFeatures) features")
        }
        let lead = Array(x.shape.dropLast())
        var x2 = try x.reshape([-1, inFeatures]).contiguous()
        // libtorch 2.11's CPU kernel reads past the row for 16-bit activations when the input width is not a
        // multiple of 8 (wrong sums for one row, a segfault for more, on AVX2); such layers run it in f32.
        let widen = x.device == .cpu && x.dtype != .f32 && inFeatures % 8 != 0
        if widen { x2 = try x2.to(.f32) }
        var y = try x2.weightInt8PackMM(codes, scales: kernelScales(x2.dtype)).reshape(lead + [outFeatures])
        if widen { y = try y.to(x.dtype) }
        guard let bias else { return y }
        return try y + (bias.dtype == x.dtype ? bias : bias.to(x.dtype))
    }
}
