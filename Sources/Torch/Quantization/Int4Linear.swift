/// Weight-only group-wise int4 `x Wᵀ + b` for inference on CPU (`csm generate --quantize int4`):
/// libtorch's `_weight_int4pack_mm_for_cpu` over codes packed by `_convert_weight_to_int4pack_for_cpu`.
///
/// Quantization (asymmetric min/max per group of `groupSize` consecutive inputs of one output row, the
/// convention of gpt-fast's `group_quantize_tensor` and torchao's `int4_weight_only`, which the kernel
/// decodes as `W' = (code − 8)·scale + zero`):
///   `scale = max(maxᵍ − minᵍ, 1e-6) / 15`, `code = clamp(round((W − minᵍ) / scale), 0, 15)`,
///   `zero = minᵍ + 8·scale`, so `W' = minᵍ + code·scale`: the group's range in 16 even steps, error per
/// weight at most scale/2 (1/30 of the group's range).
/// The kernel wants N a multiple of 16 and K a multiple of `groupSize` ∈ {32, 64, 128, 256}
/// (`supports(outFeatures:inFeatures:groupSize:)`); other projections stay as they are.
public final class Int4Linear: LinearLayer {
    public static let supportedGroupSizes = [32, 64, 128, 256]
    public static let defaultGroupSize = 64

    /// uint8 (out, in/2) in libtorch's CPU packing (opaque; only the kernel reads it).
    public let packed: Tensor
    /// float32 (in/groupSize, out, 2): scale and zero of each group, the kernel's layout.
    public let scalesAndZeros: Tensor
    public let groupSize: Int
    public var bias: Tensor?
    public let inFeatures: Int
    public let outFeatures: Int
    private var kernelScales: DTypeCopies

    public static func supports(outFeatures: Int, inFeatures: Int, groupSize: Int) -> Bool {
        supportedGroupSizes.contains(groupSize) && outFeatures % 16 == 0 && inFeatures % groupSize == 0
    }

    /// `dense`'s weight quantized as described above. Throws where the shape does not suit the kernel.
    public init(_ dense: Linear, groupSize: Int = Int4Linear.defaultGroupSize) throws {
        let (n, k) = (dense.outFeatures, dense.inFeatures)
        guard Self.supports(outFeatures: n, inFeatures: k, groupSize: groupSize) else {
            throw TorchError("Int4Linear: a (\(n), \(k)) weight does not suit libtorch's int4 CPU kernel at group "
                + "size \(groupSize) (out a multiple of 16, in a multiple of the group size ∈ \(Self.supportedGroupSizes))")
        }
        let codes: Tensor
        (codes, scalesAndZeros) = try Self.quantize(dense.weight, groupSize: groupSize)
        packed = try codes.convertWeightToInt4PackForCPU()
        kernelScales = DTypeCopies(scalesAndZeros)
        self.groupSize = groupSize
        bias = dense.bias
        inFeatures = k
        outFeatures = n
    }

    /// Stored packed codes and scales (a quantized folder).
    public init(packed: Tensor, scalesAndZeros: Tensor, groupSize: Int, bias: Tensor?) throws {
        guard packed.rank == 2, packed.dtype == .u8, scalesAndZeros.rank == 3,
              scalesAndZeros.shape == [packed.size(1) * 2 / groupSize, packed.size(0), 2],
              Self.supports(outFeatures: packed.size(0), inFeatures: packed.size(1) * 2, groupSize: groupSize) else {
            throw TorchError("Int4Linear: packed \(packed.dtype) \(packed.shape) and scales \(scalesAndZeros.shape) "
                + "do not fit group size \(groupSize)")
        }
        self.packed = packed
        self.scalesAndZeros = try scalesAndZeros.to(.f32)
        kernelScales = DTypeCopies(self.scalesAndZeros)
        self.groupSize = groupSize
        self.bias = bias
        outFeatures = packed.size(0)
        inFeatures = packed.size(1) * 2
    }

    /// The 4-bit codes (N, K) int32 in 0…15 and the kernel's scales and zeros (K/groupSize, N, 2) float32.
    public static func quantize(_ weight: Tensor, groupSize: Int) throws -> (codes: Tensor, scalesAndZeros: Tensor) {
        let (n, k) = (weight.size(0), weight.size(1))
        let w = try weight.detach().to(.f32).reshape([n, k / groupSize, groupSize])
        let lo = try w.min([2], keepDim: true), hi = try w.max([2], keepDim: true)
        let scale = try (hi - lo).clamp(min: 1e-6) / 15
        let codes = try ((w - lo) / scale).round().clamp(min: 0, max: 15).to(.i32).reshape([n, k])
        let zero = try lo + scale * 8
        let sz = try Tensor.cat([scale, zero], dim: 2).transpose(0, 1).contiguous()  // (K/g, N, 2)
        return (codes, sz)
    }

    public var device: Device { packed.device }

    /// Bytes held by the weight: half a byte per element plus 8 per group.
    public var byteCount: Int { packed.count + scalesAndZeros.count * 4 }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.size(-1) == inFeatures else {
            throw TorchError("Int4Linear: input of shape \(x.shape) does not end in \(inFeatures) features")
        }
        let lead = Array(x.shape.dropLast())
        let x2 = try x.reshape([-1, inFeatures]).contiguous()
        let sz = try kernelScales(x.dtype)
        let y = try x2.weightInt4PackMMForCPU(packed, groupSize: groupSize, scalesAndZeros: sz)
            .reshape(lead + [outFeatures])
        guard let bias else { return y }
        return try y + (bias.dtype == x.dtype ? bias : bias.to(x.dtype))
    }
}
