import Foundation

/// The fields of a Whisper checkpoint's `generation_config.json` that greedy transcription reads, as
/// `WhisperForConditionalGeneration.generate` reads them.
public struct WhisperGenerationConfig: Decodable, Equatable, Sendable {
    public var decoderStartTokenId: Int
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    /// Total length limit of prompt + generated tokens before Whisper adds the prompt's length (transformers' default 20).
    public var maxLength: Int = 20
    public var maxNewTokens: Int?
    /// Never generated (their logits are −∞ at every step).
    public var suppressTokens: [Int] = []
    /// Not generated as the first token after the prompt (a space and <|endoftext|> in real checkpoints).
    public var beginSuppressTokens: [Int] = []
    /// "<|en|>" → id; empty for English-only checkpoints.
    public var langToId: [String: Int] = [:]
    public var taskToId: [String: Int] = [:]
    public var noTimestampsTokenId: Int?
    public var isMultilingual: Bool?

    enum CodingKeys: String, CodingKey {
        case decoderStartTokenId = "decoder_start_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case maxLength = "max_length", maxNewTokens = "max_new_tokens", suppressTokens = "suppress_tokens"
        case beginSuppressTokens = "begin_suppress_tokens", langToId = "lang_to_id", taskToId = "task_to_id"
        case noTimestampsTokenId = "no_timestamps_token_id", isMultilingual = "is_multilingual"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        decoderStartTokenId = try c.decode(Int.self, forKey: .decoderStartTokenId)
        if let one = try? c.decode(Int.self, forKey: .eosTokenId) {
            eosTokenIds = [one]
        } else {
            eosTokenIds = try c.decodeIfPresent([Int].self, forKey: .eosTokenId) ?? []
        }
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        maxLength = try c.decodeIfPresent(Int.self, forKey: .maxLength) ?? 20
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens)
        suppressTokens = try c.decodeIfPresent([Int].self, forKey: .suppressTokens) ?? []
        beginSuppressTokens = try c.decodeIfPresent([Int].self, forKey: .beginSuppressTokens) ?? []
        langToId = try c.decodeIfPresent([String: Int].self, forKey: .langToId) ?? [:]
        taskToId = try c.decodeIfPresent([String: Int].self, forKey: .taskToId) ?? [:]
        noTimestampsTokenId = try c.decodeIfPresent(Int.self, forKey: .noTimestampsTokenId)
        isMultilingual = try c.decodeIfPresent(Bool.self, forKey: .isMultilingual)
    }

    public static func load(folder: URL) throws -> WhisperGenerationConfig {
        let file = folder.appendingPathComponent("generation_config.json")
        let config: WhisperGenerationConfig = try decodeJSON(
            file, what: "a Whisper folder with its generation_config.json (decoder_start_token_id, lang_to_id, task_to_id)")
        guard !config.eosTokenIds.isEmpty else {
            throw WhisperError.invalidConfig("\(file.path): no eos_token_id (transcription could never stop)")
        }
        return config
    }

    /// Whether the checkpoint has language tokens (transformers: `is_multilingual`, else the presence of `lang_to_id`).
    public var multilingual: Bool { isMultilingual ?? !langToId.isEmpty }

    /// The id of a language given as a Whisper code ("en", "de") or as its token ("<|en|>").
    public func languageId(_ language: String) throws -> Int {
        let code = language.lowercased()
        let token = code.hasPrefix("<|") ? code : "<|\(code)|>"
        guard let id = langToId[token] else {
            let known = langToId.keys.sorted().map { String($0.dropFirst(2).dropLast(2)) }
            throw WhisperError.badInput("language '\(language)' is not one of this checkpoint's languages "
                                        + "(generation_config.json lang_to_id: \(known.joined(separator: ", ")))")
        }
        return id
    }

    /// transformers' `_retrieve_init_tokens` for `task="transcribe"` without timestamps:
    /// `<|startoftranscript|>`, the language, `<|transcribe|>`, `<|notimestamps|>`. English-only checkpoints (no
    /// language tokens) get `<|startoftranscript|><|notimestamps|>`.
    public func prompt(languageId: Int?) -> [Int] {
        var tokens = [decoderStartTokenId]
        if let languageId { tokens.append(languageId) }
        if multilingual, let transcribe = taskToId["transcribe"] { tokens.append(transcribe) }
        if let noTimestamps = noTimestampsTokenId { tokens.append(noTimestamps) }
        return tokens
    }

    /// How many tokens may follow a prompt of `promptLength` (transformers' `_set_max_new_tokens_and_length`: Whisper
    /// raises `max_length` by the prompt's length, capped at the decoder's positions).
    public func maxNewTokens(promptLength: Int, maxTargetPositions: Int) -> Int {
        if let maxNewTokens { return min(maxNewTokens, maxTargetPositions - promptLength) }
        let initial = min(maxTargetPositions / 2 - 1, promptLength)
        return min(maxLength + initial, maxTargetPositions) - promptLength
    }
}
