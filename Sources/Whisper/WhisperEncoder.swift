import Torch

/// HF `WhisperEncoderLayer`: pre-norm self-attention and MLP, each added to the residual.
final class WhisperEncoderLayer {
    let selfAttn: WhisperAttention
    let selfAttnLayerNorm: LayerNorm, finalLayerNorm: LayerNorm
    let fc1: Linear, fc2: Linear
    let activation: WhisperActivation

    init(_ vb: VarBuilder, config: WhisperConfig) throws {
        let d = config.dModel
        selfAttn = try WhisperAttention(vb.pp("self_attn"), dModel: d, heads: config.encoderAttentionHeads)
        selfAttnLayerNorm = try LayerNorm(vb.pp("self_attn_layer_norm"), dimension: d, eps: 1e-5)
        finalLayerNorm = try LayerNorm(vb.pp("final_layer_norm"), dimension: d, eps: 1e-5)
        fc1 = try Linear(vb.pp("fc1"), inFeatures: d, outFeatures: config.encoderFfnDim)
        fc2 = try Linear(vb.pp("fc2"), inFeatures: config.encoderFfnDim, outFeatures: d)
        activation = try WhisperActivation(config.activationFunction, file: "config.json")
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let normed = try selfAttnLayerNorm(x)
        let (k, v) = try selfAttn.keysAndValues(normed)
        let h = try x + selfAttn.attend(normed, keys: k, values: v)
        return try h + fc2(activation(fc1(finalLayerNorm(h))))
    }
}

/// HF `WhisperEncoder` (keys `model.encoder.`): two GELU convolutions (the second halves the frames), the
/// checkpoint's position table (sinusoids in real checkpoints, read, not recomputed), layers, final LayerNorm.
final class WhisperEncoder {
    let conv1: Conv1d, conv2: Conv1d
    let embedPositions: Tensor
    let layers: [WhisperEncoderLayer]
    let layerNorm: LayerNorm
    /// Mel frames the encoder takes: max_source_positions × conv strides (3000).
    let inputFrames: Int

    init(_ vb: VarBuilder, config: WhisperConfig) throws {
        let d = config.dModel
        conv1 = try Conv1d(vb.pp("conv1"), inChannels: config.numMelBins, outChannels: d, kernelSize: 3, padding: 1)
        conv2 = try Conv1d(vb.pp("conv2"), inChannels: d, outChannels: d, kernelSize: 3, stride: 2, padding: 1)
        embedPositions = try vb.pp("embed_positions").get("weight", shape: [config.maxSourcePositions, d])
        layers = try (0..<config.encoderLayers).map { try WhisperEncoderLayer(vb.pp("layers").pp($0), config: config) }
        layerNorm = try LayerNorm(vb.pp("layer_norm"), dimension: d, eps: 1e-5)
        inputFrames = config.maxSourcePositions * 2
    }

    /// Features (batch, mel bins, 3000) → states (batch, 1500, dModel).
    func callAsFunction(_ features: Tensor) throws -> Tensor {
        guard features.size(-1) == inputFrames else {
            throw WhisperError.badInput("the encoder takes \(inputFrames) mel frames, got \(features.size(-1)) "
                                        + "(preprocessor_config.json and config.json disagree on the window)")
        }
        var h = try conv2(conv1(features).gelu()).gelu().permute(0, 2, 1)
        h = try h + embedPositions
        for layer in layers { h = try layer(h) }
        return try layerNorm(h)
    }
}
