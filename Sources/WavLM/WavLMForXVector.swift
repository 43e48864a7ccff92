import Foundation
import Torch

/// `TDNNLayer`: a dilated conv stored as a Linear over (kernel × in) — `kernel.weight` is (out, kernel·in) with
/// the kernel tap outermost — then ReLU. The conv weight (out, in, kernel) is formed once, at load.
final class TDNNLayer {
    let weight: Tensor, bias: Tensor
    let dilation: Int

    init(_ vb: VarBuilder, config: WavLMConfig, index i: Int) throws {
        let inDim = i == 0 ? config.tdnnDim[0] : config.tdnnDim[i - 1], outDim = config.tdnnDim[i]
        let k = config.tdnnKernel[i]
        let linear = try Linear(vb.pp("kernel"), inFeatures: inDim * k, outFeatures: outDim)
        weight = try linear.weight.view([outDim, k, inDim]).transpose(1, 2).contiguous()
        bias = linear.bias!
        dilation = config.tdnnDilation[i]
    }

    /// (B, T, C) → (B, T − dilation·(kernel − 1), out).
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        try x.transpose(1, 2).conv1d(weight, bias: bias, dilation: dilation).transpose(1, 2).relu()
    }
}

/// `WavLMForXVector`: WavLM, (softmax-weighted sum of every layer's hidden states | the last), projector, TDNN
/// layers, mean + std statistics pooling over each clip's frames, `feature_extractor` → the x-vector embedding,
/// `classifier` → logits. Types and stored weights follow the checkpoint's keys.
public final class WavLMForXVector {
    public let config: WavLMConfig
    let wavlm: WavLMModel
    /// softmax(layer_weights), (layers + 1, 1, 1, 1); nil without `use_weighted_layer_sum`.
    let layerWeights: Tensor?
    let projector: Linear
    let tdnn: [TDNNLayer]
    let featureExtractor: Linear
    let classifier: Linear

    public init(_ vb: VarBuilder, config: WavLMConfig) throws {
        self.config = config
        wavlm = try WavLMModel(vb.pp("wavlm"), config: config)
        let states = config.numHiddenLayers + 1
        layerWeights = config.useWeightedLayerSum
            ? try vb.get("layer_weights", shape: [states]).softmax(-1).view([states, 1, 1, 1]) : nil
        projector = try Linear(vb.pp("projector"), inFeatures: config.hiddenSize, outFeatures: config.tdnnDim[0])
        tdnn = try config.tdnnDim.indices.map { try TDNNLayer(vb.pp("tdnn").pp($0), config: config, index: $0) }
        featureExtractor = try Linear(vb.pp("feature_extractor"), inFeatures: config.tdnnDim.last! * 2,
                                      outFeatures: config.xvectorOutputDim)
        classifier = try Linear(vb.pp("classifier"), inFeatures: config.xvectorOutputDim,
                                outFeatures: config.xvectorOutputDim)
    }

    public struct Output {
        /// (B, xvector_output_dim): the speaker embeddings.
        public var embeddings: Tensor
        public var logits: Tensor
        /// The encoder's hidden states, each (B, frames, hidden), as transformers' `output_hidden_states`.
        public var hiddenStates: [Tensor]
    }

    /// Right-padded, already normalised waveforms (B, samples) at the model's rate, with each clip's sample count.
    public func callAsFunction(_ waveform: Tensor, lengths: [Int]) throws -> Output {
        let (states, last, frames) = try wavlm(waveform, lengths: lengths)
        var h = try layerWeights.map { try (Tensor.stack(states, dim: 0) * $0).sum(0) } ?? last
        h = try projector(h)
        for layer in tdnn { h = try layer(h) }
        // Statistic pooling over each clip's own TDNN frames; std is unbiased, as torch.std.
        let pooled = try frames.enumerated().map { i, n -> Tensor in
            let count = config.tdnnFrames(featureFrames: n)
            guard count > 0 else {
                throw WavLMError.badInput("clip \(i) is too short for the model (\(lengths[i]) samples)")
            }
            let clip = try h.select(0, i).narrow(0, 0, count)
            return try Tensor.cat([clip.mean(0), clip.std([0])], dim: 0)
        }
        let embeddings = try featureExtractor(Tensor.stack(pooled, dim: 0))
        return Output(embeddings: embeddings, logits: try classifier(embeddings), hiddenStates: states)
    }
}
