/// Builds the BPE model from tokenizer.json's `model` object: the vocabulary keyed by raw bytes, and merges
/// in either spelling ("a b" strings, or [a, b] pairs since tokenizers 0.20).
enum ModelLoader {
    static func load(_ json: JSONObject, byteLevel: Bool) throws -> (model: BPEModel, vocab: [String: Int]) {
        if let type = json.optionalString("type"), type != "BPE" {
            throw TokenizerError.unsupported(json.file, "model type \"\(type)\" (only BPE is implemented)")
        }
        if try json.bool("byte_fallback", default: false) {
            throw TokenizerError.unsupported(json.file, "BPE byte_fallback")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] where json.has(key) {
            if let s = json.optionalString(key), s.isEmpty { continue }
            throw TokenizerError.unsupported(json.file, "BPE \(key)")
        }
        if let dropout = json.dict["dropout"] as? Double, dropout > 0 {
            throw TokenizerError.unsupported(json.file, "BPE dropout (encoding would be random)")
        }

        guard let rawVocab = json.dict["vocab"] as? [String: Any] else { throw json.fail("\"model.vocab\" must be an object") }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(rawVocab.count)
        var table = ByteStringTable(capacity: rawVocab.count)
        for (token, value) in rawVocab {
            guard let id = value as? Int, id >= 0 else { throw json.fail("model.vocab[\"\(token)\"] must be an id ≥ 0") }
            vocab[token] = id
            // A token spelled with characters outside the byte map can never come out of byte-level BPE.
            if let raw = byteLevel ? ByteLevel.bytes(of: token) : Array(token.utf8) { table.set(raw, id) }
        }

        var entries: [(left: Int32, right: Int32, merge: MergeTable.Merge)] = []
        let merges = json.has("merges") ? try json.array("merges") : []
        entries.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            let pair: [String]
            if let s = m as? String {
                pair = s.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let a = m as? [String] {
                pair = a
            } else {
                pair = []
            }
            guard pair.count == 2 else { throw json.fail("model.merges[\(rank)] must be \"a b\" or [\"a\", \"b\"]") }
            guard let a = vocab[pair[0]], let b = vocab[pair[1]], let ab = vocab[pair[0] + pair[1]] else {
                throw json.fail("model.merges[\(rank)] (\(pair[0]) \(pair[1])) uses a token missing from the vocabulary")
            }
            entries.append((Int32(a), Int32(b), MergeTable.Merge(rank: Int32(rank), id: Int32(ab))))
        }

        var byteIds = [Int32](repeating: -1, count: 256)
        if byteLevel {
            for b in 0..<256 { byteIds[b] = table.get([UInt8(b)]).map { Int32($0) } ?? -1 }
        }
        let unk = json.optionalString("unk_token").flatMap { vocab[$0] }.map { Int32($0) }
        let model = BPEModel(vocab: table, merges: MergeTable(entries),
                             ignoreMerges: try json.bool("ignore_merges", default: false), byteLevel: byteLevel,
                             unknownId: unk, fuseUnknown: try json.bool("fuse_unk", default: false), byteIds: byteIds)
        return (model, vocab)
    }
}
