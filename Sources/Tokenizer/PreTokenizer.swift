import Foundation

/// A `Split` pattern: a literal string or a regex.
enum SplitPattern {
    case string(String)
    case regex(String, NSRegularExpression)

    static func parse(_ json: JSONObject) throws -> SplitPattern {
        if let s = json.optionalString("String") { return .string(s) }
        if let r = json.optionalString("Regex") {
            do {
                return .regex(r, try NSRegularExpression(pattern: r))
            } catch {
                throw TokenizerError.unsupported(json.file, "regex at \(json.path): \(r) (\(error.localizedDescription))")
            }
        }
        throw json.fail("\(json.path) must hold \"String\" or \"Regex\"")
    }

    var replacePattern: Normalizer.ReplacePattern {
        switch self {
        case .string(let s): return .string(s)
        case .regex(_, let re): return .regex(re)
        }
    }

    /// `tokenizers`' `find_matches`: the text cut into alternating non-matching and matching spans, as UTF-16
    /// ranges (Foundation's regexes work in UTF-16; slicing a Swift String would round to whole characters
    /// and glue "\r\n" back together).
    func spans(_ text: NSString) -> [(range: NSRange, isMatch: Bool)] {
        if text.length == 0 { return [] }
        var matches: [NSRange] = []
        switch self {
        case .string(let s):
            guard !s.isEmpty else { return [(NSRange(location: 0, length: text.length), false)] }
            var from = 0
            while from < text.length {
                let r = text.range(of: s, options: .literal, range: NSRange(location: from, length: text.length - from))
                if r.location == NSNotFound { break }
                matches.append(r)
                from = r.location + r.length
            }
        case .regex(_, let re):
            matches = re.matches(in: text as String, range: NSRange(location: 0, length: text.length))
                .map(\.range).filter { $0.length > 0 }
        }
        var out: [(NSRange, Bool)] = []
        var prev = 0
        for m in matches {
            if prev != m.location { out.append((NSRange(location: prev, length: m.location - prev), false)) }
            out.append((m, true))
            prev = m.location + m.length
        }
        if prev != text.length { out.append((NSRange(location: prev, length: text.length - prev), false)) }
        return out
    }
}

/// `SplitDelimiterBehavior`.
enum SplitBehavior: String {
    case removed, isolated, mergedWithPrevious = "merged_with_previous", mergedWithNext = "merged_with_next"
    case contiguous
}

/// The `pre_tokenizer` of a tokenizer.json: how text is cut into pre-tokens before BPE.
///
/// Llama-3's `Sequence[Split(its regex, isolated), ByteLevel(add_prefix_space: false, use_regex: false)]`
/// runs on the hand-written `Llama3Splitter` over bytes. Other configurations take the general path below
/// (NSRegularExpression for regexes; ICU and Oniguruma agree on ordinary patterns, not on every corner).
struct PreTokenizer {
    indirect enum Step {
        case split(SplitPattern, SplitBehavior, invert: Bool)
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
        case whitespaceSplit
        case sequence([Step])
    }

    let steps: [Step]
    /// The whole pipeline is Llama-3's: use the scanner.
    let isLlama3: Bool
    /// A ByteLevel step maps bytes to symbols: the BPE vocabulary is byte-level.
    let isByteLevel: Bool

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    init(_ json: JSONObject?) throws {
        steps = try json.map { [try Self.step($0)] } ?? []
        let flat = Self.flatten(steps)
        if flat.count == 2, case .split(.regex(let p, _), .isolated, false) = flat[0], p == Llama3Splitter.pattern,
           case .byteLevel(false, false) = flat[1] {
            isLlama3 = true
        } else {
            isLlama3 = false
        }
        isByteLevel = flat.contains { if case .byteLevel = $0 { return true } else { return false } }
    }

    private static func flatten(_ steps: [Step]) -> [Step] {
        steps.flatMap { step -> [Step] in
            if case .sequence(let inner) = step { return flatten(inner) }
            return [step]
        }
    }

    private static func step(_ json: JSONObject) throws -> Step {
        let type = try json.string("type")
        switch type {
        case "Sequence":
            return .sequence(try json.objects("pretokenizers").map(step))
        case "Split":
            let name = try json.string("behavior")
            let snake = name.reduce(into: "") { s, c in
                if c.isUppercase && !s.isEmpty { s += "_" }
                s += c.lowercased()
            }
            guard let behavior = SplitBehavior(rawValue: snake) else {
                throw json.fail("\(json.key("behavior")): unknown split behavior \"\(name)\"")
            }
            return .split(try SplitPattern.parse(json.object("pattern")), behavior,
                          invert: try json.bool("invert", default: false))
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try json.bool("add_prefix_space", default: true),
                              useRegex: try json.bool("use_regex", default: true))
        case "WhitespaceSplit":
            return .whitespaceSplit
        default:
            throw TokenizerError.unsupported(json.file, "pre-tokenizer \"\(type)\" at \(json.path)")
        }
    }

    /// The general path: pre-tokens of `text` as strings (before byte mapping).
    func pieces(_ text: String) -> [String] {
        var pieces = text.isEmpty ? [] : [text]
        for step in steps { pieces = pieces.flatMap { Self.apply(step, $0) } }
        return pieces.filter { !$0.isEmpty }
    }

    private static let gpt2Regex = try! NSRegularExpression(pattern: gpt2Pattern)

    private static func apply(_ step: Step, _ piece: String) -> [String] {
        switch step {
        case .sequence(let inner):
            var pieces = [piece]
            for s in inner { pieces = pieces.flatMap { apply(s, $0) } }
            return pieces
        case .byteLevel(let addPrefixSpace, let useRegex):
            let p = addPrefixSpace && piece.utf8.first != 0x20 ? " " + piece : piece  // bytes: " \u{301}" is one Character
            return useRegex ? split(p, .regex(gpt2Pattern, gpt2Regex), .isolated, invert: false) : [p]
        case .whitespaceSplit:
            // Per scalar, as Rust's char::is_whitespace (a Character may glue a space to a combining mark).
            return piece.unicodeScalars.split(whereSeparator: \.properties.isWhitespace).map { String($0) }
        case .split(let pattern, let behavior, let invert):
            return split(piece, pattern, behavior, invert: invert)
        }
    }

    /// `NormalizedString::split`.
    private static func split(_ text: String, _ pattern: SplitPattern, _ behavior: SplitBehavior, invert: Bool) -> [String] {
        let ns = text as NSString
        let spans = pattern.spans(ns).map { ($0.range, $0.isMatch != invert) }
        var out: [(range: NSRange, remove: Bool)] = []
        func joined(_ a: NSRange, _ b: NSRange) -> NSRange { NSRange(location: a.location, length: b.location + b.length - a.location) }
        switch behavior {
        case .isolated:
            out = spans.map { ($0.0, false) }
        case .removed:
            out = spans.map { ($0.0, $0.1) }
        case .contiguous, .mergedWithPrevious:
            var previousMatch = false
            for (range, isMatch) in spans {
                let merge = behavior == .contiguous ? isMatch == previousMatch : isMatch && !previousMatch
                if merge, let last = out.last {
                    out[out.count - 1].range = joined(last.range, range)
                } else {
                    out.append((range, false))
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for (range, isMatch) in spans.reversed() {
                if isMatch && !previousMatch, let last = out.last {
                    out[out.count - 1].range = joined(range, last.range)
                } else {
                    out.append((range, false))
                }
                previousMatch = isMatch
            }
            out.reverse()
        }
        return out.filter { !$0.remove && $0.range.length > 0 }.map { ns.substring(with: $0.range) }
    }
}
