import Foundation
import Torch

/// `WavLMPositionalConvEmbedding`: a grouped conv over time (kernel `num_conv_pos_embeddings`, "same" padding, one
/// step dropped for an even kernel), then the activation. The weight is stored weight-normalised over dim 2, as
/// `parametrizations.weight.original0/1` (g, v; transformers ≥ 4.3x) or `weight_g`/`weight_v` (older files):
/// w = g · v / ‖v‖ with the norm over the in/out dims for each kernel tap. It is formed once, at load.
final class PositionalConvEmbedding {
    let weight: Tensor, bias: Tensor
    let padding: Int, dropLast: Bool, groups: Int
    let activation: Activation

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        let d = config.hiddenSize, k = config.numConvPosEmbeddings, groups = config.numConvPosEmbeddingGroups
        let conv = vb.pp("conv")
        let (gKey, vKey) = conv.contains("parametrizations.weight.original0")
            ? ("parametrizations.weight.original0", "parametrizations.weight.original1") : ("weight_g", "weight_v")
        let g = try conv.get(gKey, shape: [1, 1, k])
        let v = try conv.get(vKey, shape: [d, d / groups, k])
        let norm = try v.square().sum([0, 1], keepDim: true).sqrt()
        weight = try v * (g / norm)
        bias = try conv.get("bias", shape: [d])
        padding = k / 2
        dropLast = k % 2 == 0
        self.groups = groups
        activation = try Activation(config.featExtractActivation)
    }

    /// (B, T, D) → (B, T, D).
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var y = try x.transpose(1, 2).conv1d(weight, bias: bias, padding: padding, groups: groups)
        if dropLast { y = try y.narrow(2, 0, y.size(2) - 1) }
        return try activation(y).transpose(1, 2)
    }
}

/// `WavLMEncoder` / `WavLMEncoderStableLayerNorm`: positional conv, layers sharing layer 0's position bias.
final class Encoder {
    let posConvEmbed: PositionalConvEmbedding
    let layerNorm: LayerNorm
    let layers: [EncoderLayer]
    let stable: Bool

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        posConvEmbed = try PositionalConvEmbedding(vb.pp("pos_conv_embed"), config: config)
        layerNorm = try LayerNorm(vb.pp("layer_norm"), dimension: config.hiddenSize, eps: config.layerNormEps)
        layers = try (0..<config.numHiddenLayers).map {
            try EncoderLayer(vb.pp("layers").pp($0), config: config, index: $0)
        }
        stable = config.doStableLayerNorm
    }

    /// x (B, T, D) with padded frames zeroed → transformers' `hidden_states` (layer 0's input, then every layer's
    /// output) and `last_hidden_state` (the last output, after the final LayerNorm in the stable variant). As in
    /// transformers 5, the stable variant's last hidden state in `hidden_states` is the one before that norm.
    func callAsFunction(_ x: Tensor, keyPadding: Tensor?) throws -> (hiddenStates: [Tensor], last: Tensor) {
        var h = try x + posConvEmbed(x)
        if !stable { h = try layerNorm(h) }
        let bias = try layers[0].attention.positionBias(frames: h.size(1), device: h.device).to(h.dtype)
        var states = [h]
        for layer in layers {
            h = try layer(h, positionBias: bias, keyPadding: keyPadding)
            states.append(h)
        }
        return (states, stable ? try layerNorm(h) : h)
    }
}
