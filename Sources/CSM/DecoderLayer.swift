import Torch

/// `CsmMLP`: SwiGLU, down(silu(gate(x)) * up(x)). The projections are replaceable as Attention's.
public final class MLP {
    public var gateProj: any LinearLayer, upProj: any LinearLayer, downProj: any LinearLayer
    /// Mixed precision: the dtype of the whole block (products and SiLU·up); nil: x's own.
    public var compute: DType?

    public init(_ vb: VarBuilder, _ c: DecoderStackConfig) throws {
        gateProj = try Linear(vb.pp("gate_proj"), inFeatures: c.hiddenSize, outFeatures: c.intermediateSize, bias: c.mlpBias)
        upProj = try Linear(vb.pp("up_proj"), inFeatures: c.hiddenSize, outFeatures: c.intermediateSize, bias: c.mlpBias)
        downProj = try Linear(vb.pp("down_proj"), inFeatures: c.intermediateSize, outFeatures: c.hiddenSize, bias: c.mlpBias)
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let x = try x.autocast(compute)
        return try downProj(gateProj(x).silu() * upProj(x))
    }
}

/// `CsmDecoderLayer`: pre-norm attention and MLP blocks with residuals.
public final class DecoderLayer {
    public let selfAttn: Attention
    public let mlp: MLP
    public let inputLayernorm: RMSNorm, postAttentionLayernorm: RMSNorm
    /// Training: keep only the MLP's input for backward and run the MLP again there (`checkpoint`).
    public var recomputeMLP = false

    public init(_ vb: VarBuilder, _ c: DecoderStackConfig) throws {
        selfAttn = try Attention(vb.pp("self_attn"), c)
        mlp = try MLP(vb.pp("mlp"), c)
        inputLayernorm = try RMSNorm(vb.pp("input_layernorm"), dimension: c.hiddenSize, eps: c.rmsNormEps)
        postAttentionLayernorm = try RMSNorm(vb.pp("post_attention_layernorm"), dimension: c.hiddenSize, eps: c.rmsNormEps)
    }

    public func callAsFunction(_ x: Tensor, cos: Tensor, sin: Tensor, mask: Tensor?,
                               cache: (any AttentionCache)?) throws -> Tensor {
        let h = try x + selfAttn(inputLayernorm(x), cos: cos, sin: sin, mask: mask, cache: cache)
        let n = try postAttentionLayernorm(h)
        return try h + (recomputeMLP ? checkpoint(n) { [mlp] in try mlp($0) } : mlp(n))
    }
}

/// The layers + final norm + rotary embedding that the backbone and the depth decoder share.
public final class DecoderStack {
    public let layers: [DecoderLayer]
    public let norm: RMSNorm
    public let rotaryEmb: RotaryEmbedding

    /// `vb` is the model prefix holding `layers.N.*` and `norm`.
    public init(_ vb: VarBuilder, _ c: DecoderStackConfig) throws {
        layers = try (0..<c.numHiddenLayers).map { try DecoderLayer(vb.pp("layers").pp($0), c) }
        norm = try RMSNorm(vb.pp("norm"), dimension: c.hiddenSize, eps: c.rmsNormEps)
        rotaryEmb = try RotaryEmbedding(headDim: c.headDim, rope: c.rope)
    }

    /// Normed last hidden state for `x` (batch, seq, hidden). Positions continue after the cache;
    /// `caches` has one entry per layer when given. `rope`, when given, is `rotaryEmb`'s cos/sin for exactly these
    /// positions, made ahead: (seq, head_dim) shared by every row (generation's depth decoder reuses them every
    /// frame), or (batch, 1, seq, head_dim) for rows at their own positions (`BatchGenerator`).
    public func callAsFunction(_ x: Tensor, mask: Tensor?, caches: [any AttentionCache]?,
                               rope: (cos: Tensor, sin: Tensor)? = nil) throws -> Tensor {
        if let caches, caches.count != layers.count {
            throw TorchError("DecoderStack: \(caches.count) caches for \(layers.count) layers")
        }
        if let rope, rope.cos.size(-2) != x.size(1) {
            throw TorchError("DecoderStack: rotary cos/sin for \(rope.cos.size(-2)) positions, input has \(x.size(1))")
        }
        let start = caches?.first?.count ?? 0
        let (cos, sin) = try rope ?? rotaryEmb(start: start, count: x.size(1), dtype: x.dtype, device: x.device)
        var h = x
        for (i, layer) in layers.enumerated() {
            h = try layer(h, cos: cos, sin: sin, mask: mask, cache: caches?[i])
        }
        return try norm(h)
    }
}
