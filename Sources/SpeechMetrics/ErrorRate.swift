/// Edits between a reference and a hypothesis (Levenshtein distance: substitutions + deletions + insertions, each
/// cost 1) and the reference's length, in words or characters after `TextNormalizer`.
public struct EditCount: Codable, Equatable, Sendable {
    public var edits: Int
    public var referenceLength: Int

    public init(edits: Int, referenceLength: Int) {
        self.edits = edits
        self.referenceLength = referenceLength
    }

    enum CodingKeys: String, CodingKey { case edits, referenceLength = "reference_length" }

    public static func words(reference: String, hypothesis: String) -> EditCount {
        let r = TextNormalizer.words(reference), h = TextNormalizer.words(hypothesis)
        return EditCount(edits: levenshtein(r, h), referenceLength: r.count)
    }

    public static func characters(reference: String, hypothesis: String) -> EditCount {
        let r = TextNormalizer.characters(reference), h = TextNormalizer.characters(hypothesis)
        return EditCount(edits: levenshtein(r, h), referenceLength: r.count)
    }

    /// The error rate of one pair; see `rate(_:)`.
    public var rate: Double { Self.rate([self]) }

    /// Over a corpus, as jiwer: total edits / total reference length (not the mean of the pairs' rates). With no
    /// reference words at all, jiwer returns the edit count itself (every hypothesis word is an insertion).
    public static func rate(_ counts: [EditCount]) -> Double {
        let edits = counts.reduce(0) { $0 + $1.edits }, length = counts.reduce(0) { $0 + $1.referenceLength }
        return length == 0 ? Double(edits) : Double(edits) / Double(length)
    }
}

/// Word error rate and character error rate of transcripts against their references, corpus-aggregated as jiwer.
public enum ErrorRate {
    public static func wer(references: [String], hypotheses: [String]) -> Double {
        EditCount.rate(zip(references, hypotheses).map { EditCount.words(reference: $0, hypothesis: $1) })
    }

    public static func cer(references: [String], hypotheses: [String]) -> Double {
        EditCount.rate(zip(references, hypotheses).map { EditCount.characters(reference: $0, hypothesis: $1) })
    }
}

/// Levenshtein distance with unit costs, one row at a time (O(|a|·|b|) time, O(|b|) memory).
func levenshtein<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
