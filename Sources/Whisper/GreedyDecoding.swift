import Torch

/// Greedy decoding as `WhisperForConditionalGeneration.generate(language=…, task="transcribe")` does it for clips up
/// to 30 s without timestamps: the forced prompt, `suppress_tokens` at every step and `begin_suppress_tokens` at the
/// first, argmax, stop at eos or at the length limit. Finished clips leave the batch (transformers keeps them and
/// pads; the other rows' tokens are the same).
struct GreedyDecoding {
    let model: WhisperModel
    let generation: WhisperGenerationConfig

    /// (vocab) f32: 0, or −∞ at `ids` (ids outside the vocabulary are ignored).
    private func mask(_ ids: [Int]) throws -> Tensor? {
        let vocab = model.config.vocabSize
        let inside = ids.filter { $0 >= 0 && $0 < vocab }
        guard !inside.isEmpty else { return nil }
        var values = [Float](repeating: 0, count: vocab)
        for id in inside { values[id] = -.infinity }
        return try Tensor(values).to(model.device)
    }

    /// transformers' `detect_language`: the logits after `<|startoftranscript|>` restricted to the language tokens.
    /// Runs the first prompt position on `cache`, which the prompt then continues from.
    func detectLanguages(cache: WhisperDecoderCache, batch: Int) throws -> [Int] {
        let languageIds = generation.langToId.values.sorted()
        guard !languageIds.isEmpty else {
            throw WhisperError.badInput("language detection needs generation_config.json's lang_to_id "
                                        + "(this checkpoint has no language tokens: pass language nil only)")
        }
        let start = try Tensor([Int64](repeating: Int64(generation.decoderStartTokenId), count: batch), shape: [batch, 1])
        let logits = try model.decode(start.to(model.device), cache: cache).select(1, 0)  // (batch, vocab)
        var keep = [Float](repeating: -.infinity, count: model.config.vocabSize)
        for id in languageIds where id < keep.count { keep[id] = 0 }
        return try (logits + Tensor(keep).to(model.device)).argmax(-1).toArray(Int.self)
    }

    /// Generated ids per row of `encoderStates` (batch, 1500, dModel), without the prompt and without eos.
    /// `languages`: one language token id per row, or nil to detect each row's language.
    func callAsFunction(encoderStates: Tensor, languages: [Int]?) throws -> [[Int]] {
        let batch = encoderStates.size(0)
        let cache = try model.makeCache(encoderStates: encoderStates)
        let rowLanguages: [Int?]
        var fed = 0  // prompt positions already in the cache
        if let languages {
            rowLanguages = languages
        } else if generation.multilingual {
            rowLanguages = try detectLanguages(cache: cache, batch: batch)
            fed = 1
        } else {
            rowLanguages = Array(repeating: nil, count: batch)
        }
        let prompts = rowLanguages.map { generation.prompt(languageId: $0) }
        let promptLength = prompts[0].count
        let maxNew = generation.maxNewTokens(promptLength: promptLength, maxTargetPositions: model.config.maxTargetPositions)
        let suppress = try mask(generation.suppressTokens)
        let beginSuppress = try mask(generation.beginSuppressTokens + generation.suppressTokens)
        let eos = Set(generation.eosTokenIds)

        var output = [[Int]](repeating: [], count: batch)
        var active = Array(0..<batch)  // original row of each batch position
        let rest = prompts.flatMap { $0[fed...].map(Int64.init) }
        var input = try Tensor(rest, shape: [batch, promptLength - fed]).to(model.device)
        for step in 0..<max(0, maxNew) {
            var logits = try model.decode(input, cache: cache).select(1, -1)  // (active, vocab)
            if let m = step == 0 ? beginSuppress : suppress { logits = try logits + m }
            let picked = try logits.argmax(-1).toArray(Int.self)
            var keep: [Int] = [], next: [Int64] = []
            for (position, token) in picked.enumerated() {
                let row = active[position]
                if eos.contains(token) { continue }
                output[row].append(token)
                if output[row].count < maxNew {
                    keep.append(position)
                    next.append(Int64(token))
                }
            }
            if keep.isEmpty { break }
            if keep.count < active.count {
                try cache.keep(rows: keep)
                active = keep.map { active[$0] }
            }
            input = try Tensor(next, shape: [next.count, 1]).to(model.device)
        }
        return output
    }
}
