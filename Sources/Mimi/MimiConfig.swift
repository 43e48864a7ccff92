import Foundation

/// `transformers.MimiConfig`: field names (snake_case in JSON) and defaults as Hugging Face, so a
/// standalone `kyutai/mimi` `config.json` or the `codec_config` inside a CSM `config.json` decodes as is.
public struct MimiConfig: Codable, Equatable, Sendable {
    public struct RopeParameters: Codable, Equatable, Sendable {
        public var ropeType: String = "default"
        public var ropeTheta: Double = 10_000

        enum CodingKeys: String, CodingKey { case ropeType = "rope_type", ropeTheta = "rope_theta" }
    }

    public var samplingRate = 24_000
    public var audioChannels = 1
    public var hiddenSize = 512
    public var numFilters = 64
    public var numResidualLayers = 1
    public var upsamplingRatios = [8, 6, 5, 4]
    public var kernelSize = 7
    public var lastKernelSize = 3
    public var residualKernelSize = 3
    public var dilationGrowthRate = 2
    public var useCausalConv = true
    public var padMode = "constant"
    public var compress = 2
    public var trimRightRatio = 1.0
    public var codebookSize = 2048
    public var codebookDim = 256
    public var numQuantizers = 32
    public var useConvShortcut = false
    public var vectorQuantizationHiddenDimension = 256
    public var numSemanticQuantizers = 1
    public var upsampleGroups = 512
    public var numHiddenLayers = 8
    public var intermediateSize = 2048
    public var numAttentionHeads = 8
    public var numKeyValueHeads = 8
    /// nil means `hiddenSize / numAttentionHeads`, as HF.
    public var headDim: Int?
    public var hiddenAct = "gelu"
    public var maxPositionEmbeddings = 8000
    public var normEps = 1e-5
    public var ropeParameters = RopeParameters()
    public var slidingWindow = 250
    public var attentionBias = false
    public var layerScaleInitialScale = 0.01
    /// Older configs store `frame_rate` explicitly; otherwise it follows from the strides.
    public var explicitFrameRate: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case samplingRate = "sampling_rate", audioChannels = "audio_channels", hiddenSize = "hidden_size"
        case numFilters = "num_filters", numResidualLayers = "num_residual_layers"
        case upsamplingRatios = "upsampling_ratios", kernelSize = "kernel_size", lastKernelSize = "last_kernel_size"
        case residualKernelSize = "residual_kernel_size", dilationGrowthRate = "dilation_growth_rate"
        case useCausalConv = "use_causal_conv", padMode = "pad_mode", compress, trimRightRatio = "trim_right_ratio"
        case codebookSize = "codebook_size", codebookDim = "codebook_dim", numQuantizers = "num_quantizers"
        case useConvShortcut = "use_conv_shortcut"
        case vectorQuantizationHiddenDimension = "vector_quantization_hidden_dimension"
        case numSemanticQuantizers = "num_semantic_quantizers", upsampleGroups = "upsample_groups"
        case numHiddenLayers = "num_hidden_layers", intermediateSize = "intermediate_size"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim", hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case normEps = "norm_eps", ropeParameters = "rope_parameters", slidingWindow = "sliding_window"
        case attentionBias = "attention_bias", layerScaleInitialScale = "layer_scale_initial_scale"
        case explicitFrameRate = "frame_rate"
    }

    /// Legacy keys read on decoding only.
    private enum LegacyKeys: String, CodingKey { case ropeTheta = "rope_theta" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let d = MimiConfig()
        samplingRate = try value(.samplingRate, d.samplingRate)
        audioChannels = try value(.audioChannels, d.audioChannels)
        hiddenSize = try value(.hiddenSize, d.hiddenSize)
        numFilters = try value(.numFilters, d.numFilters)
        numResidualLayers = try value(.numResidualLayers, d.numResidualLayers)
        upsamplingRatios = try value(.upsamplingRatios, d.upsamplingRatios)
        kernelSize = try value(.kernelSize, d.kernelSize)
        lastKernelSize = try value(.lastKernelSize, d.lastKernelSize)
        residualKernelSize = try value(.residualKernelSize, d.residualKernelSize)
        dilationGrowthRate = try value(.dilationGrowthRate, d.dilationGrowthRate)
        useCausalConv = try value(.useCausalConv, d.useCausalConv)
        padMode = try value(.padMode, d.padMode)
        compress = try value(.compress, d.compress)
        trimRightRatio = try value(.trimRightRatio, d.trimRightRatio)
        codebookSize = try value(.codebookSize, d.codebookSize)
        codebookDim = try value(.codebookDim, d.codebookDim)
        numQuantizers = try value(.numQuantizers, d.numQuantizers)
        useConvShortcut = try value(.useConvShortcut, d.useConvShortcut)
        vectorQuantizationHiddenDimension = try value(.vectorQuantizationHiddenDimension,
                                                      d.vectorQuantizationHiddenDimension)
        numSemanticQuantizers = try value(.numSemanticQuantizers, d.numSemanticQuantizers)
        upsampleGroups = try value(.upsampleGroups, d.upsampleGroups)
        numHiddenLayers = try value(.numHiddenLayers, d.numHiddenLayers)
        intermediateSize = try value(.intermediateSize, d.intermediateSize)
        numAttentionHeads = try value(.numAttentionHeads, d.numAttentionHeads)
        numKeyValueHeads = try value(.numKeyValueHeads, d.numKeyValueHeads)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        hiddenAct = try value(.hiddenAct, d.hiddenAct)
        maxPositionEmbeddings = try value(.maxPositionEmbeddings, d.maxPositionEmbeddings)
        normEps = try value(.normEps, d.normEps)
        slidingWindow = try value(.slidingWindow, d.slidingWindow)
        attentionBias = try value(.attentionBias, d.attentionBias)
        layerScaleInitialScale = try value(.layerScaleInitialScale, d.layerScaleInitialScale)
        explicitFrameRate = try c.decodeIfPresent(Double.self, forKey: .explicitFrameRate)
        if let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters) {
            ropeParameters = rope
        } else if let theta = try decoder.container(keyedBy: LegacyKeys.self)
                    .decodeIfPresent(Double.self, forKey: .ropeTheta) {
            ropeParameters.ropeTheta = theta  // transformers 4.x wrote `rope_theta` at the top level
        }
        try validate()
    }

    /// The checks HF's `validate_architecture` makes, plus the ones this implementation relies on.
    public func validate() throws {
        func fail(_ why: String) -> MimiError { .invalidConfig(why) }
        guard numSemanticQuantizers < numQuantizers else {
            throw fail("num_semantic_quantizers (\(numSemanticQuantizers)) must be lower than num_quantizers (\(numQuantizers))")
        }
        guard codebookSize > 0, codebookSize & (codebookSize - 1) == 0 else {
            throw fail("codebook_size must be a power of 2, got \(codebookSize)")
        }
        guard audioChannels == 1 || audioChannels == 2 else { throw fail("audio_channels must be 1 or 2") }
        guard hiddenSize % numAttentionHeads == 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_attention_heads must divide hidden_size and be a multiple of num_key_value_heads")
        }
        guard ["constant", "replicate", "reflect"].contains(padMode) else {
            throw fail("pad_mode '\(padMode)' is not supported (constant, replicate, reflect)")
        }
        guard ropeParameters.ropeType == "default" else {
            throw fail("rope_type '\(ropeParameters.ropeType)' is not supported by Mimi (only 'default')")
        }
        guard useCausalConv || trimRightRatio == 1 else {
            throw fail("trim_right_ratio != 1.0 only makes sense for causal convolutions")
        }
        _ = try Activation(hiddenAct)
    }

    // MARK: derived values (HF properties)

    public var resolvedHeadDim: Int { headDim ?? hiddenSize / numAttentionHeads }

    /// Samples per SEANet step: the product of the ratios.
    public var hopLength: Int { upsamplingRatios.reduce(1, *) }

    public var encodecFrameRate: Int { Int((Double(samplingRate) / Double(hopLength)).rounded(.up)) }

    /// Samples per codec frame: every encoder stride times the 2x downsample (HF's `frame_size`).
    public var frameSize: Int { hopLength * 2 }

    public var frameRate: Double { explicitFrameRate ?? Double(samplingRate) / Double(frameSize) }

    /// Downsample/upsample stride between the transformer rate and the frame rate.
    public var latentStride: Int { Int(Double(encodecFrameRate) / frameRate) }

    /// HF builds the down/upsample convs only when the two rates differ.
    public var hasResampling: Bool { frameRate != Double(encodecFrameRate) }
}
