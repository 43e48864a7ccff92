import Foundation
import Testing
@testable import Tokenizer

/// Ids must equal `tokenizers`' for every fixture string (English, German, numbers, whitespace runs,
/// emoji, CJK, combining marks, control characters, contractions, special tokens, random code points).
struct EncodeTests {
    let tokenizer = Fixture.tokenizer
    let cases = Fixture.cases

    @Test func fixtureHasEnoughCases() {
        #expect(cases.encode.count >= 5000)
        #expect(cases.encode.contains { $0.text == "[0]Hello" })
    }

    @Test func idsWithoutSpecialTokensMatchTokenizers() {
        let pairs = cases.encode.map { ($0.text, $0.ids, tokenizer.encode($0.text, addSpecialTokens: false)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test func idsWithSpecialTokensMatchTokenizers() {
        let pairs = cases.encode.map { ($0.text, $0.ids_special, tokenizer.encode($0.text, addSpecialTokens: true)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    @Test func specialTokensSitAtLlama3Ids() {
        #expect(tokenizer.tokenToId("<|begin_of_text|>") == 128000)
        #expect(tokenizer.tokenToId("<|end_of_text|>") == 128001)
        #expect(tokenizer.tokenToId("<|reserved_special_token_247|>") == 128255)
        #expect(tokenizer.bosId == 128000 && tokenizer.eosId == 128001)
        #expect(tokenizer.idToToken(128002) == "<|AUDIO|>")
        #expect(tokenizer.isSpecial(128003) && !tokenizer.isSpecial(100))
        #expect(tokenizer.idToToken(tokenizer.tokenToId("Ġthe")!) == "Ġthe")
    }

    /// The hand-written split against `tokenizers`' regex pre-tokenizer, cut for cut.
    @Test func llama3SplitMatchesTheRegex() {
        #expect(tokenizer.preTokenizer.isLlama3)
        let checked = cases.encode.filter { $0.split != nil }
        #expect(checked.count > 1000)
        let pairs = checked.map { c -> (String, [Int], [Int]) in
            var ends: [Int32] = []
            var text = c.text
            text.withUTF8 { Llama3Splitter.split($0, ends: &ends) }
            let lengths = zip(ends, [0] + ends.dropLast()).map { Int($0 - $1) }
            return (c.text, c.split!, lengths)
        }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    /// Letter / number / space for every code point of planes 0-3 and 14, as Oniguruma classes them inside
    /// `tokenizers` (Swift's Unicode tables are newer: see `CharacterClass.unicodeVersion`).
    @Test func characterClassesMatchOniguruma() {
        var expected: [UInt32: String] = [:]
        for (name, runs) in [("L", cases.classes.letters), ("N", cases.classes.numbers), ("S", cases.classes.spaces)] {
            for run in runs { for v in run[0]..<run[0] + run[1] { expected[v] = name } }
        }
        var mismatches: [String] = []
        for range in cases.classes.ranges {
            for v in range[0]..<range[1] where !(0xD800..<0xE000).contains(v) {
                let got: String
                switch CharacterClass.of(v) {
                case .letter: got = "L"
                case .number: got = "N"
                case .space, .newline: got = "S"
                case .other: got = "other"
                }
                if got != expected[v] ?? "other" { mismatches.append("U+\(String(v, radix: 16)): \(expected[v] ?? "other") vs \(got)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) code points classed differently, first: \(mismatches.prefix(5))")
    }

    /// tokenizer.json may spell merges as "a b" strings (before tokenizers 0.20) or as [a, b] pairs.
    @Test func bothMergeSpellingsGiveTheSameIds() throws {
        let dir = try Fixture.copy(editing: "tokenizer.json") { json in
            var model = json["model"] as! [String: Any]
            model["merges"] = (model["merges"] as! [[String]]).map { $0.joined(separator: " ") }
            json["model"] = model
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let strings = try Tokenizer(folder: dir)
        let sample = cases.encode.prefix(800)
        let pairs = sample.map { ($0.text, $0.ids, strings.encode($0.text, addSpecialTokens: false)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    /// Added tokens with lstrip / rstrip / single_word / normalized, under an NFC + Lowercase normalizer.
    @Test func addedTokenFlagsMatchTokenizers() throws {
        let variant = Fixture.rawJSON("variant")
        let dir = try Fixture.copy(editing: "tokenizer.json") { json in
            json["normalizer"] = variant["normalizer"]
            json["added_tokens"] = (json["added_tokens"] as! [Any]) + (variant["added_tokens"] as! [[String: Any]])
                .map { $0.merging(["id": 0]) { a, _ in a } }
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let flagged = try Tokenizer(folder: dir)
        for (content, id) in cases.variant.ids ?? [:] { #expect(flagged.tokenToId(content) == id, "id of \(content)") }
        let pairs = cases.variant.cases.map { ($0.text, $0.ids, flagged.encode($0.text, addSpecialTokens: false)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    /// A pre-tokenizer other than Llama-3's (GPT-2's ByteLevel regex with a prefix space) takes the general
    /// NSRegularExpression path.
    @Test func regexFallbackMatchesTokenizers() throws {
        let preTokenizer = Fixture.rawJSON("regex_fallback")["pre_tokenizer"]
        let dir = try Fixture.copy(editing: "tokenizer.json") { $0["pre_tokenizer"] = preTokenizer }
        defer { try? FileManager.default.removeItem(at: dir) }
        let gpt2 = try Tokenizer(folder: dir)
        #expect(!gpt2.preTokenizer.isLlama3 && gpt2.preTokenizer.isByteLevel)
        let pairs = cases.regex_fallback.cases.map { ($0.text, $0.ids, gpt2.encode($0.text, addSpecialTokens: false)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
    }

    /// `ignore_merges`: a pre-token that is itself in the vocabulary is one id, even where merges would not get
    /// there. Checked with words spliced into the vocabulary, with the flag on (Llama-3) and off.
    @Test(arguments: [true, false])
    func ignoreMergesMatchesTokenizers(_ ignoreMerges: Bool) throws {
        let extra = cases.ignore_merges
        let dir = try Fixture.copy(editing: "tokenizer.json") { json in
            var model = json["model"] as! [String: Any]
            model["vocab"] = (model["vocab"] as! [String: Any]).merging(extra.vocab) { $1 }
            model["ignore_merges"] = ignoreMerges
            json["model"] = model
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = try Tokenizer(folder: dir)
        let expected = ignoreMerges ? extra.ids : extra.ids_without_ignore_merges
        let pairs = zip(extra.texts, expected).map { ($0, $1, tokenizer.encode($0, addSpecialTokens: false)) }
        let mismatch = Fixture.firstMismatch(pairs)
        #expect(mismatch == nil, "\(mismatch ?? "")")
        #expect(extra.ids != extra.ids_without_ignore_merges)
    }

    /// The pre-token cache must not change results: encode every case twice in a fresh tokenizer.
    @Test func cachedAndUncachedAgree() throws {
        let fresh = try Tokenizer(folder: Fixture.folder)
        let sample = cases.encode.suffix(500)
        let first = sample.map { fresh.encode($0.text) }
        let second = sample.map { fresh.encode($0.text) }
        #expect(first == second)
    }
}
