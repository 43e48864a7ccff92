/// The ids of one CSM conversation turn, as `CsmProcessor` builds them.
///
/// The processor's chat template renders a turn as
///
///     {bos_token}[{speaker}]{text}{eos_token}<|AUDIO|><|audio_eos|>
///
/// (the audio part only when the turn has audio), repeats `<|AUDIO|>` once per Mimi frame, and tokenizes the
/// whole string with `add_special_tokens=False`. We do the same: the text part is encoded as one string with
/// the configured bos/eos names in it, so their added-token flags apply exactly as there; the audio ids are
/// appended (they follow eos directly, so no flag of theirs could change the result). Every id comes from
/// the tokenizer files; none is written here.
public struct TurnLayout: Sendable {
    public let tokenizer: Tokenizer
    public let bosToken: String
    public let eosToken: String
    public let bosId: Int
    public let eosId: Int
    /// `<|AUDIO|>`: stands for one Mimi frame.
    public let audioId: Int
    /// `<|audio_eos|>`: ends a turn's frames (embedded as an all-zero frame).
    public let audioEOSId: Int
    /// Leave the `[speaker]` prefix out of the text (`bos text eos`): how a model trained with
    /// `--mask_speaker_ids` saw every turn, so its prompts must be laid out the same way.
    public let maskSpeakerIds: Bool

    /// The names `CsmProcessor` falls back on when the tokenizer config has no `audio_token`/`audio_eos_token`.
    public static let defaultAudioToken = "<|AUDIO|>"
    public static let defaultAudioEOSToken = "<|audio_eos|>"

    public init(tokenizer: Tokenizer, maskSpeakerIds: Bool = false) throws {
        let config = tokenizer.config
        func resolve(_ name: String?, _ role: String) throws -> (String, Int) {
            guard let name else { throw TurnLayoutError.missingName(role) }
            guard let id = tokenizer.tokenToId(name) else { throw TurnLayoutError.unknownToken(name, role: role) }
            return (name, id)
        }
        (bosToken, bosId) = try resolve(config.bosToken, "bos_token")
        (eosToken, eosId) = try resolve(config.eosToken, "eos_token")
        audioId = try resolve(config.audioToken ?? Self.defaultAudioToken, "audio_token").1
        audioEOSId = try resolve(config.audioEOSToken ?? Self.defaultAudioEOSToken, "audio_eos_token").1
        self.tokenizer = tokenizer
        self.maskSpeakerIds = maskSpeakerIds
    }

    /// `bos [speaker]text eos` (`bos text eos` with `maskSpeakerIds`).
    public func textIds(speaker: Int, text: String) -> [Int] {
        let prefix = maskSpeakerIds ? "" : "[\(speaker)]"
        return tokenizer.encode("\(bosToken)\(prefix)\(text)\(eosToken)", addSpecialTokens: false)
    }

    /// A whole turn: its text ids, then (when it has audio) one audio id per frame and the audio end.
    public func turnIds(speaker: Int, text: String, audioFrames: Int?) -> [Int] {
        var ids = textIds(speaker: speaker, text: text)
        if let audioFrames {
            ids += Array(repeating: audioId, count: audioFrames)
            ids.append(audioEOSId)
        }
        return ids
    }
}

public enum TurnLayoutError: Error, CustomStringConvertible {
    case missingName(String)
    case unknownToken(String, role: String)

    public var description: String {
        switch self {
        case .missingName(let role):
            return "the tokenizer config names no \(role) (tokenizer_config.json or special_tokens_map.json)"
        case .unknownToken(let name, let role):
            return "\(role) \"\(name)\" is not a token of tokenizer.json"
        }
    }
}
