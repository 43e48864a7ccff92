/// NF4 block scales stored in 8 bits — bitsandbytes' double quantization (`compress_statistics=True`,
/// QLoRA's `bnb_4bit_use_double_quant`): `offset` is the mean of the float32 absmax values; `absmax -
/// offset` is quantized in blocks of 256 to indices into `DynamicMap.values`, each block with its own
/// float32 absmax. It cuts the scales from 4 bytes per 64 weights to about 1.
///
/// The rounding follows bitsandbytes' CPU kernel (csrc/cpu_ops.cpp `quantize_cpu_impl`): a value scaled
/// by its block's float32 reciprocal goes to the nearest of 65536 grid points over [-1, 1], and a
/// table gives that point's nearest map entry; an all-zero block gets index 0. (Its CUDA kernel searches
/// the map directly, so a value very close to a midpoint may get the neighbouring index there.)
public struct NF4DoubleQuantizedAbsmax: Sendable {
    public static let blockSize = 256
    static let gridSize = 65536

    /// uint8 indices into the dynamic map, one per NF4 block.
    public let codes: Tensor
    /// float32, one per 256 codes.
    public let absmax: Tensor
    /// float32, shape [1].
    public let offset: Tensor

    public init(codes: Tensor, absmax: Tensor, offset: Tensor) throws {
        let blocks = (codes.count + Self.blockSize - 1) / Self.blockSize
        guard codes.dtype == .u8, absmax.dtype == .f32, absmax.count == blocks, offset.dtype == .f32,
              offset.count == 1 else {
            throw TorchError("NF4 double quantization: need uint8 codes, \(blocks) float32 absmax values for "
                + "\(codes.count) codes and one float32 offset; got \(codes.dtype) \(codes.shape), "
                + "\(absmax.dtype) \(absmax.shape), \(offset.dtype) \(offset.shape)")
        }
        self.codes = try codes.reshape([codes.count])
        self.absmax = try absmax.reshape([blocks])
        self.offset = try offset.reshape([1])
    }

    /// Quantizes float32 NF4 scales.
    public static func quantize(_ scales: Tensor) throws -> NF4DoubleQuantizedAbsmax {
        try withNoGrad {
            let n = scales.count, device = scales.device
            let offset = try scales.mean().reshape([1])
            let blocks = try (scales - offset).pad([0, (blockSize - n % blockSize) % blockSize]).reshape([-1, blockSize])
            let blockMax = try blocks.abs().max([1], keepDim: true)
            let isZero = try blockMax.eq(0)
            let inverse = try Tensor.where(isZero, Tensor.zeros([1], device: device), blockMax.reciprocal())
            let scaled = try (blocks * inverse).clamp(min: -1, max: 1)
            let point = try ((scaled + 1) * 0.5 * Double(gridSize - 1) + 0.5).to(.i64)  // float32, truncated
            let nearest = try gridTable(device).indexSelect(0, point.reshape([-1])).reshape([-1, blockSize])
            let codes = try nearest.maskedFill(isZero, 0).to(.u8).reshape([-1]).narrow(0, 0, n)
            return try NF4DoubleQuantizedAbsmax(codes: codes, absmax: blockMax.reshape([-1]), offset: offset)
        }
    }

    /// The float32 NF4 scales: `map[code] * absmax + offset`.
    public func dequantize() throws -> Tensor {
        let n = codes.count, pad = (Self.blockSize - n % Self.blockSize) % Self.blockSize
        let values = try Tensor(DynamicMap.values).to(codes.device).indexSelect(0, codes.to(.i32))
        let scaled = try values.pad([0, pad]).reshape([-1, Self.blockSize]) * absmax.unsqueeze(1)
        return try scaled.reshape([-1]).narrow(0, 0, n) + offset
    }

    public var byteCount: Int { codes.count + (absmax.count + 1) * DType.f32.byteSize }

    /// Entry `i`: the map index nearest to grid point -1 + 2i/65535, i.e. the number of map midpoints
    /// strictly below it, in float32 as bitsandbytes builds it.
    private static func gridTable(_ device: Device) throws -> Tensor {
        let map = DynamicMap.values
        let midpoints = try Tensor((0..<map.count - 1).map { 0.5 * (map[$0] + map[$0 + 1]) })
        let points = try Tensor.arange(gridSize, dtype: .f32) * 2.0 / Double(gridSize - 1) + -1.0
        return try points.bucketize(midpoints).to(.i64).to(device)
    }
}
