import Foundation
import Torch

/// `WavLMAttention`: multi-head self-attention plus WavLM's gated relative position bias. Layer 0 holds the bucket
/// embedding (`rel_attn_embed`) and computes the (heads, T, T) bias every layer reuses; each layer gates it per
/// query position and head from its own input (`gru_rel_pos_linear`, `gru_rel_pos_const`).
final class Attention {
    let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear
    let gruRelPosLinear: Linear
    /// (1, heads, 1, 1).
    let gruRelPosConst: Tensor
    /// (buckets, heads); layer 0 only.
    let relAttnEmbed: Embedding?
    let heads: Int, headDim: Int, numBuckets: Int, maxDistance: Int

    init(_ vb: VarBuilder, config: WavLMConfig, hasRelativePositionBias: Bool) throws {
        let d = config.hiddenSize
        heads = config.numAttentionHeads
        headDim = d / heads
        numBuckets = config.numBuckets
        maxDistance = config.maxBucketDistance
        qProj = try Linear(vb.pp("q_proj"), inFeatures: d, outFeatures: d)
        kProj = try Linear(vb.pp("k_proj"), inFeatures: d, outFeatures: d)
        vProj = try Linear(vb.pp("v_proj"), inFeatures: d, outFeatures: d)
        outProj = try Linear(vb.pp("out_proj"), inFeatures: d, outFeatures: d)
        gruRelPosLinear = try Linear(vb.pp("gru_rel_pos_linear"), inFeatures: headDim, outFeatures: 8)
        gruRelPosConst = try vb.get("gru_rel_pos_const", shape: [1, heads, 1, 1])
        relAttnEmbed = hasRelativePositionBias
            ? try Embedding(vb.pp("rel_attn_embed"), count: numBuckets, dimension: heads) : nil
    }

    /// `compute_bias`: (1, heads, T, T) from the bucket of each key − query distance.
    func positionBias(frames t: Int, device: Device) throws -> Tensor {
        guard let relAttnEmbed else {
            throw WavLMError.cannotLoad("encoder layer 0 has no attention.rel_attn_embed.weight")
        }
        let positions = try Tensor.arange(t, device: device)
        let relative = try positions.unsqueeze(0) - positions.unsqueeze(1)  // [q, k] = k − q
        let buckets = try relativePositionBuckets(relative)
        return try relAttnEmbed(buckets).permute(2, 0, 1).unsqueeze(0)
    }

    /// `_relative_positions_bucket`, op for op in libtorch so bucket edges fall where transformers' do: half the
    /// buckets per direction, exact below `max_exact`, logarithmic up to `max_bucket_distance`, clamped after.
    private func relativePositionBuckets(_ relative: Tensor) throws -> Tensor {
        let half = numBuckets / 2, maxExact = half / 2
        // Integer tensors throughout where transformers has them (a Double scalar would promote them to float).
        let device = relative.device
        let direction = try Tensor.where(relative.gt(0), Tensor.full([], Double(half), dtype: .i64, device: device),
                                         Tensor.zeros([], dtype: .i64, device: device))
        let distance = try relative.abs()
        let isSmall = try distance.lt(Double(maxExact))
        var large = try (distance.to(.f32) / Double(maxExact)).log()
        large = try large / Foundation.log(Double(maxDistance) / Double(maxExact)) * Double(half - maxExact)
        let largeBucket = try (large + Double(maxExact)).to(.i64)
            .minimum(Tensor.full([], Double(half - 1), dtype: .i64, device: device))
        return try direction + Tensor.where(isSmall, distance, largeBucket)
    }

    /// x (B, T, D); bias (1, H, T, T) ungated; keyPadding (B, 1, 1, T) true at padded keys, nil when none.
    func callAsFunction(_ x: Tensor, positionBias: Tensor, keyPadding: Tensor?) throws -> Tensor {
        let (b, t) = (x.size(0), x.size(1))
        func split(_ y: Tensor) throws -> Tensor { try y.view([b, t, heads, headDim]).transpose(1, 2) }
        // The gate: per head and query position, from the layer's input split into heads.
        let projected = try gruRelPosLinear(split(x)).view([b, heads, t, 2, 4]).sum(-1)  // (B, H, T, 2)
        let gates = try projected.sigmoid()
        let gateA = try gates.narrow(-1, 0, 1), gateB = try gates.narrow(-1, 1, 1)
        let gate = try gateA * (gateB * gruRelPosConst - 1.0) + 2.0  // (B, H, T, 1)
        var mask = try gate * positionBias  // (B, H, T, T)
        if let keyPadding { mask = try mask.maskedFill(keyPadding, -Double.infinity) }
        let q = try split(qProj(x)), k = try split(kProj(x)), v = try split(vProj(x))
        let attended = try Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
        return try outProj(attended.transpose(1, 2).reshape([b, t, heads * headDim]))
    }
}
