import Testing
@testable import Tokenizer

struct DecodeTests {
    let tokenizer = Fixture.tokenizer
    let cases = Fixture.cases

    @Test func decodeMatchesTokenizers() {
        var failures: [String] = []
        for c in cases.encode {
            let plain = tokenizer.decode(c.ids, skipSpecialTokens: false)
            let skipped = tokenizer.decode(c.ids_special, skipSpecialTokens: true)
            if plain != c.decoded ?? c.text || skipped != c.decoded_skip ?? c.text {
                failures.append("\"\(Fixture.escaped(c.text))\": got \"\(Fixture.escaped(plain))\" / \"\(Fixture.escaped(skipped))\"")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) decode mismatches, first: \(failures.first ?? "")")
    }

    /// Random id sequences: broken UTF-8 becomes U+FFFD as in Rust's from_utf8_lossy; unknown ids vanish.
    @Test func decodeOfRandomIdsMatchesTokenizers() {
        for c in cases.decode {
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: false) == c.text, "ids \(c.ids)")
            #expect(tokenizer.decode(c.ids, skipSpecialTokens: true) == c.text_skip, "ids \(c.ids) skipping specials")
        }
    }

    /// Byte-level BPE loses nothing: decoding the ids gives the text back (special tokens kept as text).
    @Test func roundTrip() {
        for c in cases.encode {
            let ids = tokenizer.encode(c.text, addSpecialTokens: false)
            #expect(tokenizer.decode(ids, skipSpecialTokens: false) == c.text, "\(Fixture.escaped(c.text))")
        }
        #expect(tokenizer.decode(tokenizer.encode("[0]Hello")) == "<|begin_of_text|>[0]Hello<|end_of_text|>")
    }
}
