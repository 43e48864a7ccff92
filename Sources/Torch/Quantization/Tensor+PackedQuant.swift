import CTorch

extension Tensor {
    /// `torch._weight_int8pack_mm(self, weight, scales)`: `self` (M, K) @ `weight`ᵀ (int8, (N, K)) times
    /// `scales` (N), `self` and `scales` in one float dtype. libtorch's weight-only int8 kernel.
    public func weightInt8PackMM(_ weight: Tensor, scales: Tensor) throws -> Tensor {
        try wrap(ct_weight_int8pack_mm(handle, weight.handle, scales.handle))
    }

    /// `torch._convert_weight_to_int4pack_for_cpu(self, innerKTiles)`: 4-bit codes (N, K) int32 in 0…15 →
    /// libtorch's packed CPU layout, uint8 (N, K/2). N must be a multiple of 16.
    public func convertWeightToInt4PackForCPU(innerKTiles: Int = 1) throws -> Tensor {
        try wrap(ct_convert_weight_to_int4pack_for_cpu(handle, Int64(innerKTiles)))
    }

    /// `torch._weight_int4pack_mm_for_cpu(self, packed, groupSize, scalesAndZeros)`: `self` (M, K) @ Wᵀ
    /// with W[n, k] = (code − 8)·scale + zero, scale and zero at `scalesAndZeros[k / groupSize, n]`
    /// ((K / groupSize, N, 2), `self`'s dtype).
    public func weightInt4PackMMForCPU(_ packed: Tensor, groupSize: Int, scalesAndZeros: Tensor) throws -> Tensor {
        try wrap(ct_weight_int4pack_mm_for_cpu(handle, packed.handle, Int64(groupSize), scalesAndZeros.handle))
    }
}
