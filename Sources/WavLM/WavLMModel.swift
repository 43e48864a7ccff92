import Torch

/// `WavLMFeatureProjection`: LayerNorm over the conv channels, then a projection to the hidden size.
final class FeatureProjection {
    let layerNorm: LayerNorm
    let projection: Linear

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        let channels = config.convDim.last!
        layerNorm = try LayerNorm(vb.pp("layer_norm"), dimension: channels, eps: config.layerNormEps)
        projection = try Linear(vb.pp("projection"), inFeatures: channels, outFeatures: config.hiddenSize)
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor { try projection(layerNorm(x)) }
}

/// `WavLMModel` (`wavlm.*`): conv feature encoder, feature projection, transformer encoder.
public final class WavLMModel {
    let featureExtractor: FeatureEncoder
    let featureProjection: FeatureProjection
    let encoder: Encoder

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        featureExtractor = try FeatureEncoder(vb.pp("feature_extractor"), config: config)
        featureProjection = try FeatureProjection(vb.pp("feature_projection"), config: config)
        encoder = try Encoder(vb.pp("encoder"), config: config)
    }

    /// Right-padded waveforms (B, samples) with each clip's sample count → the encoder's hidden states and last
    /// hidden state (each (B, frames, hidden)), and each clip's frame count.
    func callAsFunction(_ waveform: Tensor, lengths: [Int]) throws
        -> (hiddenStates: [Tensor], last: Tensor, frames: [Int]) {
        let (features, frames) = try featureExtractor(waveform, lengths: lengths)
        var x = try featureProjection(features.transpose(1, 2))
        let total = x.size(1)
        var keyPadding: Tensor?
        if frames.contains(where: { $0 != total }) {
            // As transformers with an attention mask: padded frames are zeroed (so the positional conv sees what
            // it sees past the end of a lone clip) and never attended to.
            let valid = try validMask(lengths: frames, frames: total, like: x)
            x = try x * valid.unsqueeze(-1)
            keyPadding = try valid.eq(0).view([valid.size(0), 1, 1, total])
        }
        let (states, last) = try encoder(x, keyPadding: keyPadding)
        return (states, last, frames)
    }
}
