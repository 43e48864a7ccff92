import Foundation

/// `transformers.WhisperConfig`, the fields the forward pass reads, decoded straight from `config.json` (snake_case
/// keys, transformers' defaults for absent ones).
public struct WhisperConfig: Codable, Equatable, Sendable {
    public var vocabSize = 51865
    public var numMelBins = 80
    public var dModel = 384
    public var encoderLayers = 4
    public var encoderAttentionHeads = 6
    public var encoderFfnDim = 1536
    public var decoderLayers = 4
    public var decoderAttentionHeads = 6
    public var decoderFfnDim = 1536
    public var maxSourcePositions = 1500
    public var maxTargetPositions = 448
    public var activationFunction = "gelu"
    public var decoderStartTokenId = 50257
    public var padTokenId = 50256
    public var eosTokenId = 50256
    public var tieWordEmbeddings = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", numMelBins = "num_mel_bins", dModel = "d_model"
        case encoderLayers = "encoder_layers", encoderAttentionHeads = "encoder_attention_heads"
        case encoderFfnDim = "encoder_ffn_dim", decoderLayers = "decoder_layers"
        case decoderAttentionHeads = "decoder_attention_heads", decoderFfnDim = "decoder_ffn_dim"
        case maxSourcePositions = "max_source_positions", maxTargetPositions = "max_target_positions"
        case activationFunction = "activation_function", decoderStartTokenId = "decoder_start_token_id"
        case padTokenId = "pad_token_id", eosTokenId = "eos_token_id", tieWordEmbeddings = "tie_word_embeddings"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        let d = WhisperConfig()
        vocabSize = try read(.vocabSize, d.vocabSize)
        numMelBins = try read(.numMelBins, d.numMelBins)
        dModel = try read(.dModel, d.dModel)
        encoderLayers = try read(.encoderLayers, d.encoderLayers)
        encoderAttentionHeads = try read(.encoderAttentionHeads, d.encoderAttentionHeads)
        encoderFfnDim = try read(.encoderFfnDim, d.encoderFfnDim)
        decoderLayers = try read(.decoderLayers, d.decoderLayers)
        decoderAttentionHeads = try read(.decoderAttentionHeads, d.decoderAttentionHeads)
        decoderFfnDim = try read(.decoderFfnDim, d.decoderFfnDim)
        maxSourcePositions = try read(.maxSourcePositions, d.maxSourcePositions)
        maxTargetPositions = try read(.maxTargetPositions, d.maxTargetPositions)
        activationFunction = try read(.activationFunction, d.activationFunction)
        decoderStartTokenId = try read(.decoderStartTokenId, d.decoderStartTokenId)
        padTokenId = try read(.padTokenId, d.padTokenId)
        eosTokenId = try read(.eosTokenId, d.eosTokenId)
        tieWordEmbeddings = try read(.tieWordEmbeddings, d.tieWordEmbeddings)
    }

    /// Reads and checks `folder/config.json`.
    public static func load(folder: URL) throws -> WhisperConfig {
        let file = folder.appendingPathComponent("config.json")
        let config: WhisperConfig = try decodeJSON(file, what: "a Whisper model folder (WhisperForConditionalGeneration)")
        try config.validate(file.path)
        return config
    }

    func validate(_ file: String) throws {
        for (name, heads) in [("encoder", encoderAttentionHeads), ("decoder", decoderAttentionHeads)]
        where heads <= 0 || dModel % heads != 0 {
            throw WhisperError.invalidConfig("\(file): d_model \(dModel) is not divisible by \(name)_attention_heads \(heads)")
        }
        _ = try WhisperActivation(activationFunction, file: file)
    }
}

/// Decodes `file` as `T`, with errors that name the file and what it should be.
func decodeJSON<T: Decodable>(_ file: URL, what: String) throws -> T {
    guard let data = try? Data(contentsOf: file) else {
        throw WhisperError.cannotLoad("\(file.path) is missing or unreadable: pass \(what)")
    }
    do {
        return try JSONDecoder().decode(T.self, from: data)
    } catch {
        throw WhisperError.cannotLoad("\(file.path) is not a valid \(file.lastPathComponent): \(error)")
    }
}
