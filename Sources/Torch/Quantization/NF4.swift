import CTorch

/// A weight held in NF4 ("4-bit NormalFloat", QLoRA), laid out byte for byte as bitsandbytes stores it
/// (`bnb.functional.quantize_4bit(w, blocksize: 64, quant_type: "nf4")`):
///
/// - `absmax`: float32, one per block of `blockSize` consecutive elements of the row-major flattened
///   weight (the last block may be shorter) — the block's largest magnitude; optionally stored in 8 bits
///   (`NF4DoubleQuantizedAbsmax`, bitsandbytes' double quantization).
/// - `packed`: uint8, two 4-bit indices into `code` per byte, the first element in the high nibble;
///   an odd element count pads the last low nibble with 7, the index of 0.0.
///
/// An element's index is that of the code-book entry nearest to `x / absmax`, found as bitsandbytes
/// does: count the float32 midpoints between neighbouring entries that lie strictly below the scaled
/// value (its CUDA decision tree `dQuantizeNF4` and its CPU `bucketize` agree on this, ties go down).
/// Dequantization is `code[index] * absmax` in float32, rounded to the target dtype (`decode`, shared with
/// both passes of `nf4Linear`).
///
/// The reference is `tools/fixtures/nf4.py`, checked bit for bit against bitsandbytes 0.50.2's CPU
/// kernels. Its CUDA kernel differs in two corners: it scales by a fast-math reciprocal (a value lying
/// exactly on a decision bound may land one index off) and codes an all-zero block as index 0 instead
/// of 7 (both decode to zero).
public struct NF4Tensor: Sendable {
    /// bitsandbytes' `get_4bit_type("nf4")`: quantiles of N(0, 1) scaled to [-1, 1], with an exact zero.
    public static let code: [Float] = [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
        -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
        0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
        0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
    ]

    /// The decision bounds, computed in Float as bitsandbytes does (they equal its CUDA literals).
    static let midpoints: [Float] = (0..<15).map { (code[$0] + code[$0 + 1]) / 2 }

    /// bitsandbytes' default block size for 4-bit weights, and the sizes it accepts.
    public static let defaultBlockSize = 64
    public static let supportedBlockSizes = [32, 64, 128, 256, 512, 1024, 2048, 4096]

    /// How the per-block scales are held.
    public enum Scales: Sendable {
        case float32(Tensor)
        case doubleQuantized(NF4DoubleQuantizedAbsmax)
    }

    public let packed: Tensor
    public let scales: Scales
    public let shape: [Int]
    /// The dtype of the weight that was quantized; `dequantize()` returns it.
    public let dtype: DType
    public let blockSize: Int

    public var count: Int { shape.reduce(1, *) }
    public var device: Device { packed.device }
    /// Bytes held: half a byte per element plus the scales: 4 bytes per block (0.5625 per element at
    /// block size 64), or about 1 when double-quantized (about 0.516 per element).
    public var byteCount: Int {
        switch scales {
        case .float32(let absmax): return packed.count + absmax.count * DType.f32.byteSize
        case .doubleQuantized(let q): return packed.count + q.byteCount
        }
    }

    /// The float32 per-block absmax that dequantization multiplies by.
    public var absmax: Tensor {
        get throws {
            switch scales {
            case .float32(let absmax): return absmax
            case .doubleQuantized(let q): return try q.dequantize()
            }
        }
    }

    /// Wraps stored codes and float32 scales (e.g. read from a checkpoint), checking that they fit `shape`.
    public init(packed: Tensor, absmax: Tensor, shape: [Int], dtype: DType,
                blockSize: Int = NF4Tensor.defaultBlockSize) throws {
        try Self.check(shape: shape, dtype: dtype, blockSize: blockSize)
        let n = shape.reduce(1, *)
        guard packed.dtype == .u8, packed.count == (n + 1) / 2 else {
            throw TorchError("NF4: \(n) elements need \((n + 1) / 2) packed uint8 bytes, got \(packed.count) "
                + "\(packed.dtype) values")
        }
        let blocks = (n + blockSize - 1) / blockSize
        guard absmax.dtype == .f32, absmax.count == blocks else {
            throw TorchError("NF4: \(n) elements in blocks of \(blockSize) need \(blocks) float32 absmax values, "
                + "got \(absmax.count) \(absmax.dtype) values")
        }
        guard packed.device == absmax.device else {
            throw TorchError("NF4: packed codes on \(packed.device) but absmax on \(absmax.device)")
        }
        self.packed = try packed.reshape([packed.count])
        scales = .float32(try absmax.reshape([blocks]))
        self.shape = shape
        self.dtype = dtype
        self.blockSize = blockSize
    }

    /// Wraps stored codes with double-quantized scales.
    public init(packed: Tensor, absmax: NF4DoubleQuantizedAbsmax, shape: [Int], dtype: DType,
                blockSize: Int = NF4Tensor.defaultBlockSize) throws {
        let plain = try NF4Tensor(packed: packed, absmax: absmax.dequantize(), shape: shape, dtype: dtype,
                                  blockSize: blockSize)
        self.packed = plain.packed
        scales = .doubleQuantized(absmax)
        self.shape = shape
        self.dtype = dtype
        self.blockSize = blockSize
    }

    /// The same codes with the scales double-quantized.
    public func doubleQuantized() throws -> NF4Tensor {
        guard case .float32(let absmax) = scales else { return self }
        return try NF4Tensor(packed: packed, absmax: NF4DoubleQuantizedAbsmax.quantize(absmax), shape: shape,
                             dtype: dtype, blockSize: blockSize)
    }

    /// Quantizes a float32, float16 or bfloat16 weight on its own device, optionally double-quantizing
    /// the scales. The result holds no autograd history: the codes are constants, as a frozen QLoRA
    /// base weight is.
    public static func quantize(_ weight: Tensor, blockSize: Int = defaultBlockSize,
                                doubleQuant: Bool = false) throws -> NF4Tensor {
        let plain = try quantizePlain(weight, blockSize: blockSize)
        return doubleQuant ? try plain.doubleQuantized() : plain
    }

    private static func quantizePlain(_ weight: Tensor, blockSize: Int) throws -> NF4Tensor {
        try check(shape: weight.shape, dtype: weight.dtype, blockSize: blockSize)
        return try withNoGrad {
            let n = weight.count
            let (scaled, absmax) = try normalize(weight.detach().reshape([n]).to(.f32), blockSize)
            let evenCount = try n % 2 == 0 ? scaled : scaled.pad([0, 1])  // the pad nibble encodes 0.0
            let bounds = try Tensor(midpoints).to(weight.device)
            let pairs = try evenCount.bucketize(bounds).to(.u8).reshape([-1, 2])
            let sixteen = try Tensor.full([1], 16, dtype: .u8, device: weight.device)
            let packed = try pairs.select(1, 0) * sixteen + pairs.select(1, 1)
            return try NF4Tensor(packed: packed, absmax: absmax, shape: weight.shape, dtype: weight.dtype,
                                 blockSize: blockSize)
        }
    }

    /// The weight rebuilt in `dtype` (default: the dtype it was quantized from), on the codes' device.
    public func dequantize(to dtype: DType? = nil) throws -> Tensor {
        try decode(absmax: absmax, to: dtype ?? self.dtype)
    }

    /// bitsandbytes' `dequantize_4bit`: `code[index] * absmax` of its block, in float32, then rounded to
    /// `dtype`. `absmax` is the per-block scale in float32 (double-quantized scales already expanded).
    func decode(absmax: Tensor, to dtype: DType) throws -> Tensor {
        let n = count
        guard packed.count == (n + 1) / 2, absmax.count == (n + blockSize - 1) / blockSize else {
            throw TorchError("NF4: \(packed.count) packed bytes and \(absmax.count) absmax values do not describe "
                + "shape \(shape) in blocks of \(blockSize)")
        }
        // Row b of the table holds the two values byte b decodes to: code[b >> 4] (first), code[b & 15].
        let code = try codeTensor()
        let pairs = try Tensor.stack([code.repeatInterleave(16, dim: 0), code.repeated([16])], dim: 1)
        let values = try pairs.indexSelect(0, packed.reshape([-1]).to(.i32)).view([-1]).narrow(0, 0, n)
        let scales = try absmax.reshape([-1]), full = n - n % blockSize
        var parts: [Tensor] = []
        if full > 0 {
            let blocks = try values.narrow(0, 0, full).view([-1, blockSize])
            parts.append(try (blocks * scales.narrow(0, 0, full / blockSize).unsqueeze(1)).view([-1]))
        }
        if full < n { parts.append(try values.narrow(0, full, n - full) * scales.narrow(0, full / blockSize, 1)) }
        let flat = parts.count == 1 ? parts[0] : try Tensor.cat(parts)
        return try flat.view(shape).to(dtype)
    }

    /// The code book as a float32 tensor on the codes' device.
    func codeTensor() throws -> Tensor { try Tensor(Self.code).to(device) }

    /// Per-block absmax and the values scaled into [-1, 1], with bitsandbytes' float32 rounding: whole
    /// blocks are multiplied by the reciprocal `1 / max(absmax, 1e-38)` (so an all-zero block stays 0
    /// with absmax 0); a short last block is divided by its absmax, which is stored clamped to 1e-38.
    private static func normalize(_ flat: Tensor, _ blockSize: Int) throws -> (scaled: Tensor, absmax: Tensor) {
        let n = flat.count, full = n - n % blockSize
        var scaled: [Tensor] = [], absmax: [Tensor] = []
        if full > 0 {
            let blocks = try flat.narrow(0, 0, full).reshape([-1, blockSize])
            let blockMax = try blocks.abs().max([1])
            let inverse = try blockMax.clamp(min: 1e-38).reciprocal().unsqueeze(1)
            scaled.append(try (blocks * inverse).clamp(min: -1, max: 1).reshape([full]))
            absmax.append(blockMax)
        }
        if full < n {
            let tail = try flat.narrow(0, full, n - full)
            let tailMax = try tail.abs().max().clamp(min: 1e-38).reshape([1])
            scaled.append(try (tail / tailMax).clamp(min: -1, max: 1))
            absmax.append(tailMax)
        }
        return (try Tensor.cat(scaled), try Tensor.cat(absmax))
    }

    private static func check(shape: [Int], dtype: DType, blockSize: Int) throws {
        guard [.f32, .f16, .bf16].contains(dtype) else {
            throw TorchError("NF4 quantizes float32, float16 or bfloat16 weights, not \(dtype)")
        }
        guard supportedBlockSizes.contains(blockSize) else {
            throw TorchError("NF4 block size \(blockSize) is not one bitsandbytes supports \(supportedBlockSizes)")
        }
        guard shape.reduce(1, *) > 0 else { throw TorchError("NF4: cannot quantize an empty tensor of shape \(shape)") }
    }
}
