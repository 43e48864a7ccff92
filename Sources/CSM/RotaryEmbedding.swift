import Foundation
import Torch

/// Rotary position embedding with the llama3 frequency scaling (`CsmRotaryEmbedding` +
/// `_compute_llama3_parameters`). The inverse frequencies are computed with the same f32 tensor ops
/// as transformers so cos/sin agree bit for bit.
public final class RotaryEmbedding {
    public let invFreq: Tensor

    public init(headDim: Int, rope: RopeParameters) throws {
        let exponents = try Tensor.arange(0, Double(headDim), step: 2, dtype: .i64).to(.f32) / Double(headDim)
        var inv = try exponents.rpow(rope.ropeTheta).reciprocal()
        if rope.ropeType == "llama3", let factor = rope.factor, let low = rope.lowFreqFactor,
           let high = rope.highFreqFactor {
            let oldContext = Double(rope.originalMaxPositionEmbeddings ?? 8192)
            let lowWavelen = oldContext / low, highWavelen = oldContext / high
            // `python_scalar / tensor` is `tensor.reciprocal() * scalar` in torch; same here for equal bits.
            let wavelen = try inv.reciprocal() * (2 * Double.pi)
            // long wavelengths: divide by factor; short: keep; in between: interpolate smoothly.
            let scaled = try Tensor.where(wavelen.gt(lowWavelen), inv / factor, inv)
            let smooth = try (wavelen.reciprocal() * oldContext - low) / (high - low)
            let smoothed = try (1 - smooth) * scaled / factor + smooth * scaled
            let medium = try wavelen.lt(highWavelen).logicalNot().logicalAnd(wavelen.gt(lowWavelen).logicalNot())
            inv = try Tensor.where(medium, smoothed, scaled)
        }
        invFreq = inv
    }

    /// cos and sin, each (seq, head_dim), for positions `start ..< start+count`.
    public func callAsFunction(start: Int, count: Int, dtype: DType, device: Device) throws -> (cos: Tensor, sin: Tensor) {
        let positions = try Tensor.arange(Double(start), Double(start + count), dtype: .i64, device: device).to(.f32)
        let freqs = try positions.unsqueeze(1) * invFreq.to(device).unsqueeze(0)
        let emb = try Tensor.cat([freqs, freqs], dim: -1)
        return (try emb.cos().to(dtype), try emb.sin().to(dtype))
    }

    /// cos and sin, each (batch, 1, 1, head_dim), for one position per row: `positions` (batch,) int64 on the
    /// device (rows that continue from their own positions). The same ops as above, so a row's values are those of
    /// `callAsFunction(start: position, count: 1, …)`.
    public func callAsFunction(positions: Tensor, dtype: DType) throws -> (cos: Tensor, sin: Tensor) {
        let b = positions.size(0)
        let freqs = try positions.to(.f32).unsqueeze(1) * invFreq.to(positions.device).unsqueeze(0)
        let emb = try Tensor.cat([freqs, freqs], dim: -1)
        let shape = [b, 1, 1, emb.size(-1)]
        return (try emb.cos().to(dtype).view(shape), try emb.sin().to(dtype).view(shape))
    }
}

/// q·cos + rotate_half(q)·sin on (batch, heads, seq, head_dim), cos/sin (seq, head_dim).
func applyRotary(_ x: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
    let half = x.size(-1) / 2
    let rotated = try Tensor.cat([x.narrow(-1, half, half) * -1.0, x.narrow(-1, 0, half)], dim: -1)
    return try x * cos + rotated * sin
}
