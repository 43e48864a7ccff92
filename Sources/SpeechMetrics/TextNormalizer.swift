/// The text normaliser applied to reference and transcript before WER/CER, stated exactly so scores can be
/// reproduced with jiwer:
///
/// 1. lower-case (Unicode full case mapping, as Python's `str.lower`);
/// 2. every character of Unicode general category P (punctuation) removed, not replaced: "don't" → "dont",
///    "a-b" → "ab" (`jiwer.RemovePunctuation`);
/// 3. every run of whitespace replaced by one space (`jiwer.SubstituteRegexes({r"\s+": " "})`), then trimmed
///    (`jiwer.Strip`).
///
/// Numbers, symbols (category S: $, €, +, emoji) and letters of every script are left as written ("%" is Po,
/// punctuation, and goes): "3" and "three" differ, so a model
/// that reads digits out is charged for it. In jiwer terms: `Compose([ToLowerCase(), RemovePunctuation(),
/// SubstituteRegexes({r"\s+": " "}), Strip()])`, then words for WER, characters (code points, spaces included) for CER.
public enum TextNormalizer {
    public static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.lowercased().unicodeScalars where !isPunctuation(scalar) {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" ") }
            pendingSpace = false
            out.append(scalar)
        }
        return String(out)
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The normalised text's words (what WER counts).
    public static func words(_ text: String) -> [Substring] {
        normalize(text).split(separator: " ")
    }

    /// The normalised text's code points, spaces between words included (what CER counts, as jiwer).
    public static func characters(_ text: String) -> [Unicode.Scalar] {
        Array(normalize(text).unicodeScalars)
    }
}
