import Foundation
@testable import SpeechMetrics
import Testing
import TestSupport

/// WER/CER equal jiwer's (tools/fixtures/wer.py, the stated normaliser written as jiwer transforms).
@Suite struct ErrorRateTests {
    struct Pair: Decodable {
        var reference: String, hypothesis: String
        var normalized_reference: [String]
        var wer: Double, cer: Double, word_edits: Int, char_edits: Int
    }
    struct Silent: Decodable { var references: [String], hypotheses: [String], wer: Double }
    struct Cases: Decodable {
        var pairs: [Pair]
        var corpus: [String: Double]
        var silent_references: Silent
    }

    static let cases = try! JSONDecoder().decode(
        Cases.self, from: Data(contentsOf: fixturesFolder.appendingPathComponent("wer/cases.json")))

    @Test func pairsEqualJiwer() {
        for pair in Self.cases.pairs {
            let words = EditCount.words(reference: pair.reference, hypothesis: pair.hypothesis)
            let chars = EditCount.characters(reference: pair.reference, hypothesis: pair.hypothesis)
            #expect(TextNormalizer.words(pair.reference).map(String.init) == pair.normalized_reference, "\(pair.reference)")
            #expect(words.edits == pair.word_edits, "\(pair.reference) | \(pair.hypothesis)")
            #expect(chars.edits == pair.char_edits, "\(pair.reference) | \(pair.hypothesis)")
            // Exact: the same integer counts divided in double precision.
            #expect(words.rate == pair.wer && chars.rate == pair.cer, "\(pair.reference) | \(pair.hypothesis)")
        }
    }

    @Test func corpusIsTotalEditsOverTotalReferenceLength() {
        let refs = Self.cases.pairs.map(\.reference), hyps = Self.cases.pairs.map(\.hypothesis)
        #expect(ErrorRate.wer(references: refs, hypotheses: hyps) == Self.cases.corpus["wer"])
        #expect(ErrorRate.cer(references: refs, hypotheses: hyps) == Self.cases.corpus["cer"])
        // Not the mean of the pairs' rates.
        let mean = Self.cases.pairs.map(\.wer).reduce(0, +) / Double(Self.cases.pairs.count)
        #expect(ErrorRate.wer(references: refs, hypotheses: hyps) != mean)
    }

    @Test func referencesWithoutWordsCountInsertions() {
        let s = Self.cases.silent_references
        #expect(ErrorRate.wer(references: s.references, hypotheses: s.hypotheses) == s.wer)
    }

    @Test func levenshteinBasics() {
        #expect(levenshtein(Array("kitten"), Array("sitting")) == 3)
        #expect(levenshtein([Int](), [1, 2]) == 2)
        #expect(levenshtein([1, 2, 3], [1, 2, 3]) == 0)
    }
}
