import Foundation

/// `transformers.WavLMConfig`, the fields an x-vector forward pass reads: names (snake_case in JSON) and defaults as
/// Hugging Face, so a `microsoft/wavlm-base-plus-sv` `config.json` decodes as is. Dropout, masking and CTC settings
/// are training-only and ignored.
public struct WavLMConfig: Codable, Equatable, Sendable {
    public var hiddenSize = 768
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var intermediateSize = 3072
    public var hiddenAct = "gelu"
    public var layerNormEps = 1e-5
    /// "group": GroupNorm (one group per channel) after the first conv only; "layer": LayerNorm after every conv.
    public var featExtractNorm = "group"
    public var featExtractActivation = "gelu"
    public var convDim = [512, 512, 512, 512, 512, 512, 512]
    public var convStride = [5, 2, 2, 2, 2, 2, 2]
    public var convKernel = [10, 3, 3, 3, 3, 2, 2]
    public var convBias = false
    public var numConvPosEmbeddings = 128
    public var numConvPosEmbeddingGroups = 16
    public var numBuckets = 320
    public var maxBucketDistance = 800
    /// Pre-norm encoder layers and a final LayerNorm (large models) instead of post-norm layers.
    public var doStableLayerNorm = false
    public var useWeightedLayerSum = false
    public var tdnnDim = [512, 512, 512, 512, 1500]
    public var tdnnKernel = [5, 3, 3, 1, 1]
    public var tdnnDilation = [1, 2, 3, 1, 1]
    public var xvectorOutputDim = 512
    public var addAdapter = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps", featExtractNorm = "feat_extract_norm"
        case featExtractActivation = "feat_extract_activation", convDim = "conv_dim", convStride = "conv_stride"
        case convKernel = "conv_kernel", convBias = "conv_bias", numConvPosEmbeddings = "num_conv_pos_embeddings"
        case numConvPosEmbeddingGroups = "num_conv_pos_embedding_groups", numBuckets = "num_buckets"
        case maxBucketDistance = "max_bucket_distance", doStableLayerNorm = "do_stable_layer_norm"
        case useWeightedLayerSum = "use_weighted_layer_sum", tdnnDim = "tdnn_dim", tdnnKernel = "tdnn_kernel"
        case tdnnDilation = "tdnn_dilation", xvectorOutputDim = "xvector_output_dim", addAdapter = "add_adapter"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let d = WavLMConfig()
        hiddenSize = try value(.hiddenSize, d.hiddenSize)
        numHiddenLayers = try value(.numHiddenLayers, d.numHiddenLayers)
        numAttentionHeads = try value(.numAttentionHeads, d.numAttentionHeads)
        intermediateSize = try value(.intermediateSize, d.intermediateSize)
        hiddenAct = try value(.hiddenAct, d.hiddenAct)
        layerNormEps = try value(.layerNormEps, d.layerNormEps)
        featExtractNorm = try value(.featExtractNorm, d.featExtractNorm)
        featExtractActivation = try value(.featExtractActivation, d.featExtractActivation)
        convDim = try value(.convDim, d.convDim)
        convStride = try value(.convStride, d.convStride)
        convKernel = try value(.convKernel, d.convKernel)
        convBias = try value(.convBias, d.convBias)
        numConvPosEmbeddings = try value(.numConvPosEmbeddings, d.numConvPosEmbeddings)
        numConvPosEmbeddingGroups = try value(.numConvPosEmbeddingGroups, d.numConvPosEmbeddingGroups)
        numBuckets = try value(.numBuckets, d.numBuckets)
        maxBucketDistance = try value(.maxBucketDistance, d.maxBucketDistance)
        doStableLayerNorm = try value(.doStableLayerNorm, d.doStableLayerNorm)
        useWeightedLayerSum = try value(.useWeightedLayerSum, d.useWeightedLayerSum)
        tdnnDim = try value(.tdnnDim, d.tdnnDim)
        tdnnKernel = try value(.tdnnKernel, d.tdnnKernel)
        tdnnDilation = try value(.tdnnDilation, d.tdnnDilation)
        xvectorOutputDim = try value(.xvectorOutputDim, d.xvectorOutputDim)
        addAdapter = try value(.addAdapter, d.addAdapter)
        try validate()
    }

    /// What this implementation relies on; each message names the config key.
    public func validate() throws {
        func fail(_ why: String) -> WavLMError { .invalidConfig(why) }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw fail("num_attention_heads (\(numAttentionHeads)) must divide hidden_size (\(hiddenSize))")
        }
        guard !convDim.isEmpty, convDim.count == convStride.count, convDim.count == convKernel.count else {
            throw fail("conv_dim, conv_stride and conv_kernel must have the same, non-zero length")
        }
        guard !tdnnDim.isEmpty, tdnnDim.count == tdnnKernel.count, tdnnDim.count == tdnnDilation.count else {
            throw fail("tdnn_dim, tdnn_kernel and tdnn_dilation must have the same, non-zero length")
        }
        guard ["group", "layer"].contains(featExtractNorm) else {
            throw fail("feat_extract_norm '\(featExtractNorm)' is not supported (group, layer)")
        }
        guard !addAdapter else { throw fail("add_adapter is true: WavLM adapters are not supported for x-vectors") }
        for act in [hiddenAct, featExtractActivation] { _ = try Activation(act) }
    }

    /// Frames after the conv feature encoder for `samples` input samples (`_get_feat_extract_output_lengths`).
    public func featureFrames(samples: Int) -> Int {
        zip(convKernel, convStride).reduce(samples) { length, ks in length < ks.0 ? 0 : (length - ks.0) / ks.1 + 1 }
    }

    /// The fewest input samples that leave two TDNN frames, which the pooling's unbiased std needs.
    public var minimumSamples: Int {
        let frames = 2 + zip(tdnnKernel, tdnnDilation).reduce(0) { $0 + $1.1 * ($1.0 - 1) }
        return zip(convKernel, convStride).reversed().reduce(frames) { ($0 - 1) * $1.1 + $1.0 }
    }

    /// Frames the TDNN layers leave: each dilated conv takes dilation·(kernel − 1). (transformers'
    /// `_get_tdnn_output_lengths` leaves the dilation out; it is only used with an attention mask, where it pools
    /// frames that saw the padding. Alone, a clip's pooling covers exactly these frames, which is what we pool in
    /// a batch too, so a clip's x-vector does not depend on what it is batched with.)
    public func tdnnFrames(featureFrames: Int) -> Int {
        zip(tdnnKernel, tdnnDilation).reduce(featureFrames) { $0 - $1.1 * ($1.0 - 1) }
    }
}

/// `Wav2Vec2FeatureExtractor`'s settings from `preprocessor_config.json`.
public struct Wav2Vec2FeatureExtractorConfig: Codable, Equatable, Sendable {
    public var samplingRate = 16_000
    /// Zero mean, unit variance per clip (over its own samples) before the model.
    public var doNormalize = true
    public var featureSize = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case samplingRate = "sampling_rate", doNormalize = "do_normalize", featureSize = "feature_size"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        samplingRate = try c.decodeIfPresent(Int.self, forKey: .samplingRate) ?? 16_000
        doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? true
        featureSize = try c.decodeIfPresent(Int.self, forKey: .featureSize) ?? 1
    }
}
