import Foundation

/// The token names a model folder's `tokenizer_config.json` (and `special_tokens_map.json`) give: which
/// added token is bos, eos, padding, and CSM's audio placeholders.
public struct TokenizerConfig: Sendable, Equatable {
    public var bosToken: String?
    public var eosToken: String?
    public var padToken: String?
    public var unkToken: String?
    /// CSM: one per Mimi frame. `CsmProcessor` uses the tokenizer's `audio_token`, else "<|AUDIO|>".
    public var audioToken: String?
    /// CSM: after a turn's frames. `CsmProcessor` uses `audio_eos_token`, else "<|audio_eos|>".
    public var audioEOSToken: String?
    /// The Jinja chat template, when the folder has one (CSM keeps it in the processor's files too).
    public var chatTemplate: String?

    public init(bosToken: String? = nil, eosToken: String? = nil, padToken: String? = nil, unkToken: String? = nil,
                audioToken: String? = nil, audioEOSToken: String? = nil, chatTemplate: String? = nil) {
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.padToken = padToken
        self.unkToken = unkToken
        self.audioToken = audioToken
        self.audioEOSToken = audioEOSToken
        self.chatTemplate = chatTemplate
    }

    /// Reads `tokenizer_config.json`, then fills what it lacks from `special_tokens_map.json`; either file
    /// may be absent, but a present one must be valid JSON.
    public init(folder: URL) throws {
        self.init()
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let json = try JSONObject.load(url)
            func token(_ key: String) -> String? {
                if let s = json.dict[key] as? String { return s }
                return (json.dict[key] as? [String: Any])?["content"] as? String
            }
            bosToken = bosToken ?? token("bos_token")
            eosToken = eosToken ?? token("eos_token")
            padToken = padToken ?? token("pad_token")
            unkToken = unkToken ?? token("unk_token")
            audioToken = audioToken ?? token("audio_token")
            audioEOSToken = audioEOSToken ?? token("audio_eos_token")
            chatTemplate = chatTemplate ?? json.optionalString("chat_template")
        }
    }
}
