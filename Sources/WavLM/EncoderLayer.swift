import Torch

/// `WavLMFeedForward`: intermediate_dense → activation → output_dense.
final class FeedForward {
    let intermediateDense: Linear, outputDense: Linear
    let activation: Activation

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        intermediateDense = try Linear(vb.pp("intermediate_dense"), inFeatures: config.hiddenSize,
                                       outFeatures: config.intermediateSize)
        outputDense = try Linear(vb.pp("output_dense"), inFeatures: config.intermediateSize,
                                 outFeatures: config.hiddenSize)
        activation = try Activation(config.hiddenAct)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try outputDense(activation(intermediateDense(x))) }
}

/// `WavLMEncoderLayer` (post-norm) or `WavLMEncoderLayerStableLayerNorm` (pre-norm), by `do_stable_layer_norm`.
final class EncoderLayer {
    let attention: Attention
    let layerNorm: LayerNorm, finalLayerNorm: LayerNorm
    let feedForward: FeedForward
    let preNorm: Bool

    init(_ vb: VarBuilder, config: WavLMConfig, index: Int) throws {
        attention = try Attention(vb.pp("attention"), config: config, hasRelativePositionBias: index == 0)
        layerNorm = try LayerNorm(vb.pp("layer_norm"), dimension: config.hiddenSize, eps: config.layerNormEps)
        finalLayerNorm = try LayerNorm(vb.pp("final_layer_norm"), dimension: config.hiddenSize,
                                       eps: config.layerNormEps)
        feedForward = try FeedForward(vb.pp("feed_forward"), config: config)
        preNorm = config.doStableLayerNorm
    }

    func callAsFunction(_ x: Tensor, positionBias: Tensor, keyPadding: Tensor?) throws -> Tensor {
        if preNorm {
            let h = try x + attention(layerNorm(x), positionBias: positionBias, keyPadding: keyPadding)
            return try h + feedForward(finalLayerNorm(h))
        }
        let h = try layerNorm(x + attention(x, positionBias: positionBias, keyPadding: keyPadding))
        return try finalLayerNorm(h + feedForward(h))
    }
}
