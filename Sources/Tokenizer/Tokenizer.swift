import Foundation

/// A Hugging Face fast tokenizer (`tokenizer.json`) for byte-level BPE models such as Llama-3.
///
/// `encode` gives the ids `tokenizers` gives: added tokens are cut out first, the rest is normalized,
/// pre-tokenized and run through BPE, and `addSpecialTokens` applies the post-processor template.
/// BPE results are cached per pre-token. Safe to share between threads (encoding takes a lock).
public final class Tokenizer: @unchecked Sendable {
    public let config: TokenizerConfig
    /// The added tokens with the ids `tokenizers` gives them.
    public let addedTokens: [AddedToken]

    let model: BPEModel
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer
    let postProcessor: PostProcessor?
    let decoder: Decoder
    /// Tokens with `normalized: false` are cut out of the raw text first; the others then from the normalized
    /// remainder (two passes even without a normalizer: the first pass has priority).
    let rawAddedTokens: AddedTokenMatcher
    let normalizedAddedTokens: AddedTokenMatcher

    private let tokenToIdMap: [String: Int]
    private let entries: [TokenEntry?]  // by id
    private let lock = NSLock()
    private var state: EncoderState? = EncoderState()

    struct TokenEntry {
        var token: String
        var decoded: [UInt8]
        var special: Bool
    }

    /// Loads `tokenizer.json` and the token names of `tokenizer_config.json`/`special_tokens_map.json`
    /// from a model folder.
    public convenience init(folder: URL) throws {
        let url = folder.appendingPathComponent("tokenizer.json")
        try self.init(tokenizerJSON: url, config: try TokenizerConfig(folder: folder))
    }

    public init(tokenizerJSON url: URL, config: TokenizerConfig = TokenizerConfig()) throws {
        let json = try JSONObject.load(url)
        if let version = json.optionalString("version"), version != "1.0" {
            throw TokenizerError.unsupported(url, "tokenizer.json version \"\(version)\" (expected \"1.0\")")
        }
        self.config = config
        let normalizer = try json.optionalObject("normalizer").map(Normalizer.init)
        self.normalizer = normalizer
        preTokenizer = try PreTokenizer(json.optionalObject("pre_tokenizer"))
        postProcessor = try json.optionalObject("post_processor").map(PostProcessor.init)
        decoder = try Decoder(json.optionalObject("decoder"))
        let loaded = try ModelLoader.load(json.object("model"), byteLevel: preTokenizer.isByteLevel)
        model = loaded.model

        // tokenizers ignores the ids written in added_tokens: a token already in the vocabulary keeps that id,
        // the others are numbered from the vocabulary's size on (Llama-3: exactly 128000 entries).
        var added: [AddedToken] = []
        var addedIds: [String: Int] = [:]
        var nextId = loaded.vocab.count
        for entry in json.has("added_tokens") ? try json.objects("added_tokens") : [] {
            let content = try entry.string("content")
            if content.isEmpty { continue }
            let id: Int
            if let known = addedIds[content] ?? loaded.vocab[content] {
                id = known
            } else {
                id = nextId
                nextId += 1
            }
            addedIds[content] = id
            added.append(AddedToken(content: content, id: id, special: try entry.bool("special", default: false),
                                    singleWord: try entry.bool("single_word", default: false),
                                    lstrip: try entry.bool("lstrip", default: false),
                                    rstrip: try entry.bool("rstrip", default: false),
                                    normalized: try entry.bool("normalized", default: true)))
        }
        addedTokens = added
        rawAddedTokens = AddedTokenMatcher(added.filter { !$0.normalized })
        normalizedAddedTokens = AddedTokenMatcher(added.filter(\.normalized))

        var map = loaded.vocab
        for t in added { map[t.content] = t.id }
        tokenToIdMap = map
        let specials = Set(added.filter(\.special).map(\.content))
        let maxId = max(map.values.max() ?? -1, loaded.vocab.values.max() ?? -1)
        var entries = [TokenEntry?](repeating: nil, count: maxId + 1)
        let byteLevel = decoder == .byteLevel
        func entry(_ token: String) -> TokenEntry {
            let bytes = byteLevel ? ByteLevel.bytes(of: token) ?? Array(token.utf8) : Array(token.utf8)
            return TokenEntry(token: token, decoded: bytes, special: specials.contains(token))
        }
        for (token, id) in loaded.vocab { entries[id] = entry(token) }
        for t in added { entries[t.id] = entry(t.content) }  // an added token's content wins for its id
        self.entries = entries
    }

    // MARK: Vocabulary

    public var vocabularySize: Int { entries.count }

    public func tokenToId(_ token: String) -> Int? { tokenToIdMap[token] }

    public func idToToken(_ id: Int) -> String? {
        id >= 0 && id < entries.count ? entries[id]?.token : nil
    }

    public var bosId: Int? { config.bosToken.flatMap(tokenToId) }
    public var eosId: Int? { config.eosToken.flatMap(tokenToId) }
    public var padId: Int? { config.padToken.flatMap(tokenToId) }

    public func isSpecial(_ id: Int) -> Bool {
        id >= 0 && id < entries.count && entries[id]?.special == true
    }

    // MARK: Encoding

    /// The ids of `text`; with `addSpecialTokens`, wrapped by the post-processor (bos/eos for Llama-3/CSM).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var text = text
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        lock.lock()
        // Take the buffers out of the class (leaving no second reference, so no copy-on-write) and work on a
        // local: no exclusivity checks on a class property in the hot loop.
        var state = self.state ?? EncoderState()
        self.state = nil
        text.withUTF8 { encode($0, state: &state, into: &ids) }
        self.state = state
        lock.unlock()
        let out = ids.map(Int.init)
        guard addSpecialTokens, let postProcessor else { return out }
        return postProcessor.apply(out)
    }

    private func encode(_ text: UnsafeBufferPointer<UInt8>, state: inout EncoderState, into ids: inout [Int32]) {
        var segments = state.segments
        segments.removeAll(keepingCapacity: true)
        rawAddedTokens.split(text, into: &segments)
        for segment in segments {
            if segment.id >= 0 {
                ids.append(Int32(segment.id))
                continue
            }
            let free = UnsafeBufferPointer(rebasing: text[segment.start..<segment.end])
            if normalizer == nil && normalizedAddedTokens.isEmpty {  // Llama-3
                encodeFree(free, state: &state, into: &ids)
                continue
            }
            // Second pass, as tokenizers: normalize what the first left, then cut out the normalized tokens.
            var normalized = String(decoding: free, as: UTF8.self)
            if let normalizer { normalized = normalizer.apply(normalized) }
            normalized.withUTF8 { n in
                var inner: [AddedTokenMatcher.Segment] = []
                normalizedAddedTokens.split(n, into: &inner)
                for s in inner {
                    if s.id >= 0 {
                        ids.append(Int32(s.id))
                    } else {
                        encodeFree(UnsafeBufferPointer(rebasing: n[s.start..<s.end]), state: &state, into: &ids)
                    }
                }
            }
        }
        state.segments = segments
    }

    /// Pre-tokenizes text free of added tokens and appends the BPE ids of every pre-token.
    private func encodeFree(_ text: UnsafeBufferPointer<UInt8>, state: inout EncoderState, into ids: inout [Int32]) {
        if text.isEmpty { return }
        if preTokenizer.isLlama3 {
            state.ends.removeAll(keepingCapacity: true)
            Llama3Splitter.split(text, ends: &state.ends)
            var start = 0
            for end in state.ends {
                encodePiece(UnsafeBufferPointer(rebasing: text[start..<Int(end)]), state: &state, into: &ids)
                start = Int(end)
            }
        } else {
            for piece in preTokenizer.pieces(String(decoding: text, as: UTF8.self)) {
                var piece = piece
                piece.withUTF8 { encodePiece($0, state: &state, into: &ids) }
            }
        }
    }

    @inline(__always)
    private func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, state: inout EncoderState, into ids: inout [Int32]) {
        if state.cache.lookup(piece, into: &ids) { return }
        let before = ids.count
        model.tokenize(piece, scratch: &state.scratch, into: &ids)
        state.cache.insert(piece, ids[before...])
    }

    // MARK: Decoding

    /// The text of `ids`, as `tokenizers`' `decode`: unknown ids are dropped, special tokens too when asked,
    /// and invalid UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        switch decoder {
        case .byteLevel:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(ids.count * 4)
            for id in ids {
                guard id >= 0 && id < entries.count, let e = entries[id] else { continue }
                if skipSpecialTokens && e.special { continue }
                bytes += e.decoded
            }
            return String(decoding: bytes, as: UTF8.self)
        case .none:
            return ids.compactMap { id -> String? in
                guard id >= 0 && id < entries.count, let e = entries[id] else { return nil }
                return skipSpecialTokens && e.special ? nil : e.token
            }.joined(separator: " ")
        }
    }
}
