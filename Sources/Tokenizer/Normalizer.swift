import Foundation

/// The `normalizer` of a tokenizer.json. Llama-3 has none; the common text normalizers are here so other
/// byte-level BPE tokenizers load too. Anything else is refused at load time rather than ignored.
indirect enum Normalizer {
    case nfc, nfd, nfkc, nfkd, lowercase
    case prepend(String)
    case replace(ReplacePattern, with: String)
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    enum ReplacePattern {
        case string(String)
        case regex(NSRegularExpression)
    }

    init(_ json: JSONObject) throws {
        let type = try json.string("type")
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Prepend": self = .prepend(try json.string("prepend"))
        case "Strip":
            self = .strip(left: try json.bool("strip_left", default: true), right: try json.bool("strip_right", default: true))
        case "Replace":
            self = .replace(try SplitPattern.parse(json.object("pattern")).replacePattern, with: try json.string("content"))
        case "Sequence":
            self = .sequence(try json.objects("normalizers").map(Normalizer.init))
        default:
            throw TokenizerError.unsupported(json.file, "normalizer \"\(type)\" at \(json.path)")
        }
    }

    func apply(_ s: String) -> String {
        switch self {
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        case .lowercase: return s.lowercased()
        case .prepend(let p): return s.isEmpty ? s : p + s
        case .replace(.string(let p), let with):
            return p.isEmpty ? s : s.replacingOccurrences(of: p, with: with, options: .literal)
        case .replace(.regex(let re), let with):
            return re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s),
                                               withTemplate: NSRegularExpression.escapedTemplate(for: with))
        case .strip(let left, let right):
            // Per scalar, as Rust's trim (a Character may glue a space to a combining mark).
            var scalars = Substring(s).unicodeScalars
            if left { scalars = scalars.drop(while: \.properties.isWhitespace) }
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            return String(scalars)
        case .sequence(let steps): return steps.reduce(s) { $1.apply($0) }
        }
    }
}
