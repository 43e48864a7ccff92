import Foundation

/// RoPE settings as transformers 5 writes them (`rope_parameters`), or rebuilt from the older
/// `rope_theta` + `rope_scaling` pair that the original sesame/csm-1b `config.json` uses.
public struct RopeParameters: Codable, Equatable, Sendable {
    public var ropeType: String
    public var ropeTheta: Double
    public var factor: Double?
    public var lowFreqFactor: Double?
    public var highFreqFactor: Double?
    public var originalMaxPositionEmbeddings: Int?

    enum CodingKeys: String, CodingKey {
        case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor, lowFreqFactor = "low_freq_factor"
        case highFreqFactor = "high_freq_factor", originalMaxPositionEmbeddings = "original_max_position_embeddings"
    }

    public init(ropeType: String = "default", ropeTheta: Double, factor: Double? = nil, lowFreqFactor: Double? = nil,
                highFreqFactor: Double? = nil, originalMaxPositionEmbeddings: Int? = nil) {
        self.ropeType = ropeType
        self.ropeTheta = ropeTheta
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ropeType = try c.decodeIfPresent(String.self, forKey: .ropeType)
            ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 500_000
        factor = try c.decodeIfPresent(Double.self, forKey: .factor)
        lowFreqFactor = try c.decodeIfPresent(Double.self, forKey: .lowFreqFactor)
        highFreqFactor = try c.decodeIfPresent(Double.self, forKey: .highFreqFactor)
        originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ropeType, forKey: .ropeType)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(factor, forKey: .factor)
        try c.encodeIfPresent(lowFreqFactor, forKey: .lowFreqFactor)
        try c.encodeIfPresent(highFreqFactor, forKey: .highFreqFactor)
        try c.encodeIfPresent(originalMaxPositionEmbeddings, forKey: .originalMaxPositionEmbeddings)
    }

    func validate(_ context: String) throws {
        switch ropeType {
        case "default": break
        case "llama3":
            guard let factor, let lowFreqFactor, let highFreqFactor, factor > 0, lowFreqFactor > 0,
                  highFreqFactor > lowFreqFactor else {
                throw CSMError.invalidConfig("\(context).rope_parameters: llama3 needs factor > 0 and "
                    + "0 < low_freq_factor < high_freq_factor")
            }
        default:
            throw CSMError.invalidConfig("\(context).rope_parameters.rope_type '\(ropeType)' is not supported "
                + "(CSM uses 'llama3' or 'default')")
        }
        guard ropeTheta > 0 else { throw CSMError.invalidConfig("\(context): rope_theta must be > 0") }
    }
}

/// A Llama-style decoder stack: the backbone's (`CSMConfig.backbone`, from the config's top-level fields) and the
/// depth decoder's (`CSMDepthDecoderConfig.stack`). Both configs spell these fields alike; some defaults differ.
public struct DecoderStackConfig: Equatable, Sendable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var rope: RopeParameters
    public var attentionBias: Bool
    public var mlpBias: Bool
    /// Training-only settings, read for completeness (dropout 0 and init range do not affect the math here).
    public var attentionDropout: Double
    public var initializerRange: Double
    public var useCache: Bool

    /// Reads the fields from `c`; absent ones take transformers' defaults, `d` those that differ between the two.
    /// `head_dim` and `num_key_value_heads` are optional (hidden / heads, and one KV head per head).
    fileprivate init(_ c: KeyedDecodingContainer<CSMConfigKey>,
                     defaults d: (hiddenSize: Int, layers: Int, heads: Int, maxPositions: Int)) throws {
        hiddenSize = try c.value("hidden_size", default: d.hiddenSize)
        intermediateSize = try c.value("intermediate_size", default: 8192)
        numHiddenLayers = try c.value("num_hidden_layers", default: d.layers)
        numAttentionHeads = try c.value("num_attention_heads", default: d.heads)
        numKeyValueHeads = try c.optional("num_key_value_heads") ?? numAttentionHeads
        headDim = try c.optional("head_dim") ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        hiddenAct = try c.value("hidden_act", default: "silu")
        maxPositionEmbeddings = try c.value("max_position_embeddings", default: d.maxPositions)
        rmsNormEps = try c.value("rms_norm_eps", default: 1e-5)
        rope = try c.rope()
        attentionBias = try c.value("attention_bias", default: false)
        mlpBias = try c.value("mlp_bias", default: false)
        attentionDropout = try c.value("attention_dropout", default: 0.0)
        initializerRange = try c.value("initializer_range", default: 0.02)
        useCache = try c.value("use_cache", default: true)
    }

    /// Throws `invalidConfig` naming the field (`<name>.<field>`) of the first value that cannot describe a stack.
    func validate(_ name: String) throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw CSMError.invalidConfig("\(name).\(message)") } }
        try check(hiddenSize > 0, "hidden_size must be > 0")
        try check(intermediateSize > 0, "intermediate_size must be > 0")
        try check(numHiddenLayers >= 0, "num_hidden_layers must be ≥ 0")
        try check(numAttentionHeads > 0, "num_attention_heads must be > 0")
        try check(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                  "num_key_value_heads (\(numKeyValueHeads)) must divide num_attention_heads (\(numAttentionHeads))")
        try check(headDim > 0 && headDim % 2 == 0, "head_dim must be even and > 0 (RoPE), got \(headDim)")
        try check(rmsNormEps > 0, "rms_norm_eps must be > 0")
        try check(hiddenAct == "silu", "hidden_act '\(hiddenAct)' is not supported (CSM uses 'silu')")
        try rope.validate(name)
    }
}

/// Decoding helpers shared by both configs: defaults for absent fields, and the two rope spellings.
private extension KeyedDecodingContainer where K == CSMConfigKey {
    func value<T: Decodable>(_ name: String, default d: T) throws -> T {
        try decodeIfPresent(T.self, forKey: CSMConfigKey(name)) ?? d
    }
    func optional<T: Decodable>(_ name: String) throws -> T? {
        try decodeIfPresent(T.self, forKey: CSMConfigKey(name))
    }
    func rope() throws -> RopeParameters {
        if let r: RopeParameters = try optional("rope_parameters") { return r }
        var r: RopeParameters = try optional("rope_scaling") ?? RopeParameters(ropeTheta: 500_000)
        r.ropeTheta = try value("rope_theta", default: 500_000.0)
        return r
    }
}

struct CSMConfigKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// `depth_decoder_config` (transformers `CsmDepthDecoderConfig`).
public struct CSMDepthDecoderConfig: Decodable, Equatable, Sendable {
    public var numCodebooks: Int
    public var backboneHiddenSize: Int
    public var vocabSize: Int
    public var stack: DecoderStackConfig

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CSMConfigKey.self)
        numCodebooks = try c.value("num_codebooks", default: 32)
        backboneHiddenSize = try c.value("backbone_hidden_size", default: 2048)
        vocabSize = try c.value("vocab_size", default: 2051)
        stack = try DecoderStackConfig(c, defaults: (hiddenSize: 1024, layers: 4, heads: 8, maxPositions: 33))
        if try c.value("tie_word_embeddings", default: false) {
            throw CSMError.invalidConfig("depth_decoder_config.tie_word_embeddings=true is not supported (as transformers)")
        }
    }
}

/// `config.json` of a CSM checkpoint (transformers `CsmConfig`). Unknown fields are ignored; values that
/// cannot describe a model are rejected by `validate()` with the field named.
public struct CSMConfig: Decodable, Equatable, Sendable {
    public var numCodebooks: Int
    /// Codes per codebook (`vocab_size`, alias `codebook_size`).
    public var vocabSize: Int
    public var textVocabSize: Int
    /// The backbone's decoder stack (`hidden_size`, `num_hidden_layers`, … at the top level).
    public var backbone: DecoderStackConfig
    public var padTokenId: Int?
    public var codebookPadTokenId: Int?
    public var codebookEosTokenId: Int
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var audioTokenId: Int
    public var audioEosTokenId: Int
    /// Ties the backbone's audio embedding to the depth decoder's `embed_tokens` (one tensor).
    public var tieCodebooksEmbeddings: Bool
    public var depthDecoderConfig: CSMDepthDecoderConfig
    /// Kept as raw JSON for the Mimi codec (`codec_model.*`), which has its own config type.
    public var codecConfig: Data?
    /// Stored weight dtype as written (`dtype`, formerly `torch_dtype`).
    public var dtype: String?

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CSMConfigKey.self)
        if let type: String = try c.optional("model_type"), type != "csm" {
            throw CSMError.invalidConfig("model_type is '\(type)', expected 'csm' (is this a CSM checkpoint?)")
        }
        numCodebooks = try c.value("num_codebooks", default: 32)
        vocabSize = try c.optional("vocab_size") ?? c.value("codebook_size", default: 2051)
        textVocabSize = try c.value("text_vocab_size", default: 128_256)
        backbone = try DecoderStackConfig(c, defaults: (hiddenSize: 2048, layers: 16, heads: 32, maxPositions: 2048))
        padTokenId = try c.value("pad_token_id", default: 128_002 as Int?)
        codebookPadTokenId = try c.value("codebook_pad_token_id", default: 2050 as Int?)
        codebookEosTokenId = try Self.firstId(c, "codebook_eos_token_id") ?? 0
        bosTokenId = try c.value("bos_token_id", default: 128_000 as Int?)
        eosTokenId = try Self.firstId(c, "eos_token_id")
        audioTokenId = try c.value("audio_token_id", default: 128_002)
        audioEosTokenId = try Self.firstId(c, "audio_eos_token_id") ?? 128_003
        tieCodebooksEmbeddings = try c.value("tie_codebooks_embeddings", default: true)
        if c.contains(CSMConfigKey("depth_decoder_config")) {
            depthDecoderConfig = try c.decode(CSMDepthDecoderConfig.self, forKey: CSMConfigKey("depth_decoder_config"))
        } else {
            depthDecoderConfig = try JSONDecoder().decode(CSMDepthDecoderConfig.self, from: Data("{}".utf8))
        }
        codecConfig = try c.optional("codec_config").map { (v: JSONValue) in try JSONEncoder().encode(v) }
        dtype = try c.optional("dtype") ?? c.optional("torch_dtype")
        try validate()
    }

    /// `eos_token_id`-style fields may be an int or a list; the first entry is the one the layout uses.
    private static func firstId(_ c: KeyedDecodingContainer<CSMConfigKey>, _ name: String) throws -> Int? {
        if let v = try? c.decodeIfPresent(Int.self, forKey: CSMConfigKey(name)) { return v }
        return try c.decodeIfPresent([Int].self, forKey: CSMConfigKey(name))?.first
    }

    public static func load(_ url: URL) throws -> CSMConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CSMError.invalidConfig("cannot read \(url.path): \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(CSMConfig.self, from: data) } catch let e as CSMError {
            throw CSMError.invalidConfig("\(url.path): \(e)")
        } catch {
            throw CSMError.invalidConfig("\(url.path) is not a valid CSM config: \(error)")
        }
    }

    /// Special ids for laying samples out.
    public var specialIds: CSMSpecialIds {
        CSMSpecialIds(audioTokenId: audioTokenId, audioEosTokenId: audioEosTokenId,
                      codebookEosTokenId: codebookEosTokenId, numCodebooks: numCodebooks)
    }

    public func validate() throws {
        try backbone.validate("config")
        let d = depthDecoderConfig
        try d.stack.validate("depth_decoder_config")
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw CSMError.invalidConfig(message) } }
        try check(numCodebooks >= 2, "num_codebooks must be ≥ 2, got \(numCodebooks)")
        try check(vocabSize > 0 && textVocabSize > 0, "vocab_size and text_vocab_size must be > 0")
        try check(d.numCodebooks == numCodebooks,
                  "depth_decoder_config.num_codebooks (\(d.numCodebooks)) differs from num_codebooks (\(numCodebooks))")
        try check(d.vocabSize == vocabSize,
                  "depth_decoder_config.vocab_size (\(d.vocabSize)) differs from vocab_size (\(vocabSize))")
        try check(d.backboneHiddenSize == backbone.hiddenSize, "depth_decoder_config.backbone_hidden_size "
                  + "(\(d.backboneHiddenSize)) differs from hidden_size (\(backbone.hiddenSize))")
        for (name, id) in [("audio_token_id", audioTokenId), ("audio_eos_token_id", audioEosTokenId)] {
            try check((0..<textVocabSize).contains(id), "\(name) \(id) is outside the text vocabulary (0..<\(textVocabSize))")
        }
        try check(audioTokenId != audioEosTokenId, "audio_token_id and audio_eos_token_id must differ")
        try check((0..<vocabSize).contains(codebookEosTokenId),
                  "codebook_eos_token_id \(codebookEosTokenId) is outside 0..<\(vocabSize)")
    }
}

/// Any JSON value, to carry `codec_config` through unchanged.
enum JSONValue: Codable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
