import Torch

/// `WavLMFeatureEncoder` (`wavlm.feature_extractor`): strided convs from the waveform to frames (20 ms at 16 kHz
/// for the real strides). Clips of a batch are right-padded; `lengths` are each clip's valid samples.
///
/// A valid output of an unpadded conv only sees valid inputs, so padding never leaks forward through the convs. The
/// one place it could is the first layer's GroupNorm, whose statistics run over time: it is computed over each
/// clip's valid frames only, so a clip's frames are the same batched or alone (transformers' batched forward
/// normalises over the padding too, which is why its x-vectors of a padded batch differ from the clips' own).
final class FeatureEncoder {
    let layers: [ConvLayer]

    init(_ vb: VarBuilder, config: WavLMConfig) throws {
        let activation = try Activation(config.featExtractActivation)
        layers = try config.convDim.indices.map { i in
            let norm: ConvLayer.Norm
            switch (config.featExtractNorm, i) {
            case ("layer", _): norm = .layer
            case ("group", 0): norm = .group
            default: norm = .none
            }
            return try ConvLayer(vb.pp("conv_layers").pp(i), config: config, index: i, norm: norm,
                                 activation: activation)
        }
    }

    /// (batch, samples) → (batch, channels, frames), with each clip's valid frame count.
    func callAsFunction(_ waveform: Tensor, lengths: [Int]) throws -> (Tensor, [Int]) {
        var x = try waveform.unsqueeze(1), lengths = lengths
        for layer in layers { (x, lengths) = try layer(x, lengths: lengths) }
        return (x, lengths)
    }
}

/// One of `WavLM{NoLayerNorm,LayerNorm,GroupNorm}ConvLayer`: conv, optional norm, activation.
final class ConvLayer {
    enum Norm { case none, layer, group }

    let conv: Conv1d
    let norm: Norm
    let layerNorm: LayerNorm?
    /// GroupNorm with one group per channel: an affine per-channel normalisation over time.
    let groupWeight: Tensor?, groupBias: Tensor?
    let activation: Activation

    init(_ vb: VarBuilder, config: WavLMConfig, index i: Int, norm: Norm, activation: Activation) throws {
        let inChannels = i == 0 ? 1 : config.convDim[i - 1], outChannels = config.convDim[i]
        conv = try Conv1d(vb.pp("conv"), inChannels: inChannels, outChannels: outChannels,
                          kernelSize: config.convKernel[i], stride: config.convStride[i], bias: config.convBias)
        self.norm = norm
        // nn.LayerNorm / nn.GroupNorm are built with their default eps (1e-5) here, not config.layer_norm_eps.
        layerNorm = norm == .layer ? try LayerNorm(vb.pp("layer_norm"), dimension: outChannels, eps: 1e-5) : nil
        groupWeight = norm == .group ? try vb.get("layer_norm.weight", shape: [outChannels]) : nil
        groupBias = norm == .group ? try vb.get("layer_norm.bias", shape: [outChannels]) : nil
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor, lengths: [Int]) throws -> (Tensor, [Int]) {
        var y = try conv(x)
        let kernel = conv.kernelSize, stride = conv.stride
        let out = lengths.map { $0 < kernel ? 0 : ($0 - kernel) / stride + 1 }
        switch norm {
        case .none: break
        case .layer: y = try layerNorm!(y.transpose(1, 2)).transpose(1, 2)
        case .group: y = try groupNorm(y, lengths: out)
        }
        return (try activation(y), out)
    }

    /// Per clip and channel: (x − mean) / sqrt(biased var + 1e-5) over the clip's valid frames, then the affine.
    private func groupNorm(_ x: Tensor, lengths: [Int]) throws -> Tensor {
        let frames = x.size(2), eps = 1e-5
        let w = try groupWeight!.view([1, -1, 1]), b = try groupBias!.view([1, -1, 1])
        if lengths.allSatisfy({ $0 == frames }) {
            let mean = try x.mean(2, keepDim: true)
            let centered = try x - mean
            let variance = try centered.square().mean(2, keepDim: true)
            return try centered * (variance + eps).rsqrt() * w + b
        }
        let mask = try validMask(lengths: lengths, frames: frames, like: x).unsqueeze(1)  // (B, 1, T)
        let count = try mask.sum(2, keepDim: true)
        let mean = try (x * mask).sum(2, keepDim: true) / count
        let centered = try x - mean
        let variance = try (centered * mask).square().sum(2, keepDim: true) / count
        return try centered * (variance + eps).rsqrt() * w + b
    }
}

/// (batch, frames) of 1 where a frame is within its clip's length, 0 after, in `like`'s dtype and device.
func validMask(lengths: [Int], frames: Int, like: Tensor) throws -> Tensor {
    let positions = try Tensor.arange(frames, device: like.device).unsqueeze(0)
    let limits = try Tensor(lengths.map(Int64.init), shape: [lengths.count, 1]).to(like.device)
    return try positions.lt(limits).to(like.dtype)
}
