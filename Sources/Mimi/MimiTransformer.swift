import Torch

/// HF `ACT2FN` entries a Mimi config may name.
enum Activation {
    case gelu, geluTanh, relu, silu

    init(_ name: String) throws {
        switch name {
        case "gelu": self = .gelu
        case "gelu_pytorch_tanh", "gelu_new", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        default: throw MimiError.invalidConfig("hidden_act '\(name)' is not supported (gelu, gelu_pytorch_tanh, relu, silu)")
        }
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch self {
        case .gelu: return try x.gelu()
        case .geluTanh: return try x.gelu(approximate: true)
        case .relu: return try x.relu()
        case .silu: return try x.silu()
        }
    }
}

/// HF `MimiRotaryEmbedding` with the default rope: cos/sin of position × inv_freq, the halves repeated.
/// Computed with the same tensor ops as HF so the float32 values agree bit for bit.
struct MimiRotaryEmbedding {
    let invFreq: Tensor

    init(config: MimiConfig, device: Device) throws {
        let dim = config.resolvedHeadDim
        let exponents = try Tensor.arange(0, Double(dim), step: 2, dtype: .f32, device: device) / Double(dim)
        invFreq = try 1.0 / exponents.rpow(config.ropeParameters.ropeTheta)
    }

    /// (cos, sin), each (time, headDim).
    func callAsFunction(positions: Int) throws -> (cos: Tensor, sin: Tensor) { try self(positions: 0..<positions) }

    /// (cos, sin) of `positions` only (a stream's later steps): the same values as those rows of the whole range.
    func callAsFunction(positions: Range<Int>) throws -> (cos: Tensor, sin: Tensor) {
        let steps = try Tensor.arange(Double(positions.lowerBound), Double(positions.upperBound), dtype: .f32,
                                      device: invFreq.device)
        let freqs = try steps.unsqueeze(1) * invFreq.unsqueeze(0)
        let emb = try Tensor.cat([freqs, freqs], dim: -1)
        return (try emb.cos(), try emb.sin())
    }
}

/// x·cos + rotate_half(x)·sin on (batch, heads, time, headDim).
func applyRotary(_ x: Tensor, cos: Tensor, sin: Tensor) throws -> Tensor {
    let half = x.size(-1) / 2
    let rotated = try Tensor.cat([-x.slice(-1, half, 2 * half), x.slice(-1, 0, half)], dim: -1)
    return try x * cos + rotated * sin
}

/// HF `MimiAttention`: causal self-attention within a sliding window, RoPE on q and k.
final class MimiAttention {
    let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    let numHeads: Int, numKeyValueHeads: Int, headDim: Int

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        numHeads = config.numAttentionHeads
        numKeyValueHeads = config.numKeyValueHeads
        headDim = config.resolvedHeadDim
        let hidden = config.hiddenSize, bias = config.attentionBias
        qProj = try Linear(vb.pp("q_proj"), inFeatures: hidden, outFeatures: numHeads * headDim, bias: bias)
        kProj = try Linear(vb.pp("k_proj"), inFeatures: hidden, outFeatures: numKeyValueHeads * headDim, bias: bias)
        vProj = try Linear(vb.pp("v_proj"), inFeatures: hidden, outFeatures: numKeyValueHeads * headDim, bias: bias)
        oProj = try Linear(vb.pp("o_proj"), inFeatures: numHeads * headDim, outFeatures: hidden, bias: bias)
    }

    /// `x` (batch, time, hidden); `mask` (time, cached + time) bool, true = attend. With `cache` (a stream), the
    /// keys and values of earlier chunks come first and this chunk's are appended; trimming it is the caller's.
    func callAsFunction(_ x: Tensor, rope: (cos: Tensor, sin: Tensor), mask: Tensor,
                        cache: MimiAttentionCache? = nil) throws -> Tensor {
        let (batch, time) = (x.size(0), x.size(1))
        func heads(_ t: Tensor, _ n: Int) throws -> Tensor { try t.view([batch, time, n, headDim]).transpose(1, 2) }
        var q = try heads(qProj(x), numHeads)
        var k = try heads(kProj(x), numKeyValueHeads)
        var v = try heads(vProj(x), numKeyValueHeads)
        q = try applyRotary(q, cos: rope.cos, sin: rope.sin)
        k = try applyRotary(k, cos: rope.cos, sin: rope.sin)
        if let cache {
            // Keys are cached rotated (their positions are absolute) and before repeat_kv (fewer heads to keep).
            if let keys = cache.keys, let values = cache.values {
                k = try Tensor.cat([keys, k], dim: 2)
                v = try Tensor.cat([values, v], dim: 2)
            }
            (cache.keys, cache.values) = (k, v)
        }
        if numKeyValueHeads != numHeads {  // HF repeat_kv: each kv head serves consecutive query heads
            k = try k.repeatInterleave(numHeads / numKeyValueHeads, dim: 1)
            v = try v.repeatInterleave(numHeads / numKeyValueHeads, dim: 1)
        }
        let y = try Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
        return try oProj(y.transpose(1, 2).reshape([batch, time, numHeads * headDim]))
    }
}

/// HF `MimiMLP`: fc2(act(fc1(x))), no biases.
final class MimiMLP {
    let fc1: Linear, fc2: Linear
    let activation: Activation

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        fc1 = try Linear(vb.pp("fc1"), inFeatures: config.hiddenSize, outFeatures: config.intermediateSize, bias: false)
        fc2 = try Linear(vb.pp("fc2"), inFeatures: config.intermediateSize, outFeatures: config.hiddenSize, bias: false)
        activation = try Activation(config.hiddenAct)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try fc2(activation(fc1(x))) }
}

/// HF `MimiTransformerLayer`: pre-norm attention and MLP, each residual branch scaled per channel
/// (`*_layer_scale.scale`).
final class MimiTransformerLayer {
    let selfAttn: MimiAttention
    let mlp: MimiMLP
    let inputLayernorm: LayerNorm, postAttentionLayernorm: LayerNorm
    let selfAttnLayerScale: Tensor, mlpLayerScale: Tensor

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        let hidden = config.hiddenSize
        selfAttn = try MimiAttention(vb.pp("self_attn"), config: config)
        mlp = try MimiMLP(vb.pp("mlp"), config: config)
        inputLayernorm = try LayerNorm(vb.pp("input_layernorm"), dimension: hidden, eps: config.normEps)
        postAttentionLayernorm = try LayerNorm(vb.pp("post_attention_layernorm"), dimension: hidden, eps: config.normEps)
        selfAttnLayerScale = try vb.pp("self_attn_layer_scale").get("scale", shape: [hidden])
        mlpLayerScale = try vb.pp("mlp_layer_scale").get("scale", shape: [hidden])
    }

    func callAsFunction(_ x: Tensor, rope: (cos: Tensor, sin: Tensor), mask: Tensor,
                        cache: MimiAttentionCache? = nil) throws -> Tensor {
        let h = try x + selfAttnLayerScale * selfAttn(inputLayernorm(x), rope: rope, mask: mask, cache: cache)
        return try h + mlpLayerScale * mlp(postAttentionLayernorm(h))
    }
}

/// HF `MimiTransformerModel` (keys `encoder_transformer.` / `decoder_transformer.`), run on whole clips:
/// positions from 0, causal mask limited to the last `sliding_window` steps.
///
/// Right-padded batches need no extra mask: a valid step attends only to earlier steps, all valid.
final class MimiTransformerModel {
    let layers: [MimiTransformerLayer]
    let rotaryEmb: MimiRotaryEmbedding
    let slidingWindow: Int

    init(_ vb: VarBuilder, config: MimiConfig) throws {
        layers = try (0..<config.numHiddenLayers).map {
            try MimiTransformerLayer(vb.pp("layers").pp($0), config: config)
        }
        rotaryEmb = try MimiRotaryEmbedding(config: config, device: vb.device)
        slidingWindow = config.slidingWindow
    }

    /// (time, time) bool: query q sees key k when q − window < k ≤ q (HF `sliding_window_overlay` ∧ causal).
    static func slidingWindowCausalMask(time: Int, window: Int, device: Device = .cpu) throws -> Tensor {
        try slidingWindowCausalMask(queries: 0..<time, keys: 0..<time, window: window, device: device)
    }

    /// (queries, keys) bool for absolute positions: a stream's chunk attends to the cached keys before it too.
    static func slidingWindowCausalMask(queries: Range<Int>, keys: Range<Int>, window: Int,
                                        device: Device = .cpu) throws -> Tensor {
        func positions(_ r: Range<Int>) throws -> Tensor {
            try Tensor.arange(Double(r.lowerBound), Double(r.upperBound), device: device)
        }
        let q = try positions(queries).unsqueeze(1), k = try positions(keys).unsqueeze(0)
        return try k.le(q).logicalAnd(k.gt(q - Double(window)))
    }

    /// (batch, time, hidden) → same.
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let time = x.size(1)
        let rope = try rotaryEmb(positions: time)
        let mask = try Self.slidingWindowCausalMask(time: time, window: slidingWindow, device: x.device)
        var h = x
        for layer in layers { h = try layer(h, rope: rope, mask: mask) }
        return h
    }
}

/// One attention layer's keys and values (batch, kv heads, steps, headDim) from a stream's earlier chunks,
/// keys already rotated. A class so that the layers can append to it in place.
final class MimiAttentionCache {
    var keys: Tensor?
    var values: Tensor?

    /// Keeps the last `steps` (what the next query can still see through the sliding window).
    func keepLast(_ steps: Int) throws {
        guard let keys, let values, keys.size(2) > steps else { return }
        self.keys = try keys.slice(2, keys.size(2) - steps)
        self.values = try values.slice(2, values.size(2) - steps)
    }
}

/// The decoder transformer's state between chunks of a stream: each layer's last `slidingWindow − 1` keys and
/// values (older ones are outside every later query's window) and the position the next step has.
final class MimiTransformerCache {
    let layers: [MimiAttentionCache]
    private(set) var position = 0

    init(layers: Int) { self.layers = (0..<layers).map { _ in MimiAttentionCache() } }

    var cachedSteps: Int { layers.first?.keys?.size(2) ?? 0 }

    func advance(by steps: Int, window: Int) throws {
        position += steps
        for layer in layers { try layer.keepLast(window - 1) }
    }
}

extension MimiTransformerModel {
    /// The next `x` (batch, time, hidden) of a stream: the same outputs as those steps of a whole-clip call,
    /// attending to the cached steps before them within the sliding window.
    func callAsFunction(_ x: Tensor, cache: MimiTransformerCache) throws -> Tensor {
        let (time, start, cached) = (x.size(1), cache.position, cache.cachedSteps)
        let rope = try rotaryEmb(positions: start..<(start + time))
        let mask = try Self.slidingWindowCausalMask(queries: start..<(start + time), keys: (start - cached)..<(start + time),
                                                    window: slidingWindow, device: x.device)
        var h = x
        for (layer, layerCache) in zip(layers, cache.layers) { h = try layer(h, rope: rope, mask: mask, cache: layerCache) }
        try cache.advance(by: time, window: slidingWindow)
        return h
    }
}
