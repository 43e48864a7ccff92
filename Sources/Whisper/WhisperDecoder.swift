import Torch

/// One decoder layer's state while generating: its self-attention keys/values so far, and the cross-attention
/// keys/values of the encoder states (computed once per clip, as HF's `EncoderDecoderCache`).
final class WhisperLayerCache {
    var keys: Tensor?
    var values: Tensor?
    var crossKeys: Tensor
    var crossValues: Tensor

    init(crossKeys: Tensor, crossValues: Tensor) {
        self.crossKeys = crossKeys
        self.crossValues = crossValues
    }

    /// Keeps the batch rows `rows` (an i64 index tensor): finished clips leave the batch.
    func keep(_ rows: Tensor) throws {
        keys = try keys?.indexSelect(0, rows)
        values = try values?.indexSelect(0, rows)
        crossKeys = try crossKeys.indexSelect(0, rows)
        crossValues = try crossValues.indexSelect(0, rows)
    }
}

/// The decoder's state for a batch of clips: one cache per layer and how many positions are filled.
public final class WhisperDecoderCache {
    let layers: [WhisperLayerCache]
    public private(set) var length = 0

    init(layers: [WhisperLayerCache]) { self.layers = layers }

    func advance(by steps: Int) { length += steps }

    /// Keeps the batch rows at `rows` (positions in the current batch), in that order.
    public func keep(rows: [Int]) throws {
        guard let device = layers.first?.crossKeys.device else { return }
        let index = try Tensor(rows.map(Int64.init)).to(device)
        for layer in layers { try layer.keep(index) }
    }
}

/// HF `WhisperDecoderLayer`: pre-norm causal self-attention, cross-attention over the encoder states, MLP.
final class WhisperDecoderLayer {
    let selfAttn: WhisperAttention, encoderAttn: WhisperAttention
    let selfAttnLayerNorm: LayerNorm, encoderAttnLayerNorm: LayerNorm, finalLayerNorm: LayerNorm
    let fc1: Linear, fc2: Linear
    let activation: WhisperActivation

    init(_ vb: VarBuilder, config: WhisperConfig) throws {
        let d = config.dModel
        selfAttn = try WhisperAttention(vb.pp("self_attn"), dModel: d, heads: config.decoderAttentionHeads)
        encoderAttn = try WhisperAttention(vb.pp("encoder_attn"), dModel: d, heads: config.decoderAttentionHeads)
        selfAttnLayerNorm = try LayerNorm(vb.pp("self_attn_layer_norm"), dimension: d, eps: 1e-5)
        encoderAttnLayerNorm = try LayerNorm(vb.pp("encoder_attn_layer_norm"), dimension: d, eps: 1e-5)
        finalLayerNorm = try LayerNorm(vb.pp("final_layer_norm"), dimension: d, eps: 1e-5)
        fc1 = try Linear(vb.pp("fc1"), inFeatures: d, outFeatures: config.decoderFfnDim)
        fc2 = try Linear(vb.pp("fc2"), inFeatures: config.decoderFfnDim, outFeatures: d)
        activation = try WhisperActivation(config.activationFunction, file: "config.json")
    }

    /// `x` (batch, time, dModel) at the positions after the cached ones; appends its keys/values to `cache`.
    /// `mask` (time, cached + time) bool, true = attend; nil when every key is visible (a single new step).
    func callAsFunction(_ x: Tensor, cache: WhisperLayerCache, mask: Tensor?) throws -> Tensor {
        let normed = try selfAttnLayerNorm(x)
        var (k, v) = try selfAttn.keysAndValues(normed)
        if let keys = cache.keys, let values = cache.values {
            k = try Tensor.cat([keys, k], dim: 2)
            v = try Tensor.cat([values, v], dim: 2)
        }
        (cache.keys, cache.values) = (k, v)
        var h = try x + selfAttn.attend(normed, keys: k, values: v, mask: mask)
        h = try h + encoderAttn.attend(encoderAttnLayerNorm(h), keys: cache.crossKeys, values: cache.crossValues)
        return try h + fc2(activation(fc1(finalLayerNorm(h))))
    }
}

/// HF `WhisperDecoder` (keys `model.decoder.`): token embeddings plus learned positions, layers, final LayerNorm.
final class WhisperDecoder {
    let embedTokens: Embedding
    let embedPositions: Tensor
    let layers: [WhisperDecoderLayer]
    let layerNorm: LayerNorm

    init(_ vb: VarBuilder, config: WhisperConfig) throws {
        let d = config.dModel
        embedTokens = try Embedding(vb.pp("embed_tokens"), count: config.vocabSize, dimension: d)
        embedPositions = try vb.pp("embed_positions").get("weight", shape: [config.maxTargetPositions, d])
        layers = try (0..<config.decoderLayers).map { try WhisperDecoderLayer(vb.pp("layers").pp($0), config: config) }
        layerNorm = try LayerNorm(vb.pp("layer_norm"), dimension: d, eps: 1e-5)
    }

    var maxPositions: Int { embedPositions.size(0) }

    /// A cache for `encoderStates` (batch, 1500, dModel): the cross-attention keys/values of every layer.
    func makeCache(encoderStates: Tensor) throws -> WhisperDecoderCache {
        WhisperDecoderCache(layers: try layers.map { layer in
            let (k, v) = try layer.encoderAttn.keysAndValues(encoderStates)
            return WhisperLayerCache(crossKeys: k, crossValues: v)
        })
    }

    /// Token ids (batch, time) i64 at positions cache.length… → hidden states (batch, time, dModel).
    func callAsFunction(_ ids: Tensor, cache: WhisperDecoderCache) throws -> Tensor {
        let time = ids.size(1)
        guard cache.length + time <= maxPositions else {
            throw WhisperError.badInput("decoder positions run out: \(cache.length + time) > max_target_positions \(maxPositions)")
        }
        var h = try embedTokens(ids) + embedPositions.narrow(0, cache.length, time)
        // Causal: new step i sees every cached position and the new ones up to itself.
        let mask = time == 1 ? nil : try Tensor.arange(cache.length + time, device: h.device).unsqueeze(0)
            .le(Tensor.arange(Double(cache.length), Double(cache.length + time), device: h.device).unsqueeze(1))
        for (layer, layerCache) in zip(layers, cache.layers) { h = try layer(h, cache: layerCache, mask: mask) }
        cache.advance(by: time)
        return try layerNorm(h)
    }
}
