/// The Llama-3 pre-tokenizer split, by hand:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// with behavior `isolated`. Every character starts some alternative, so the matches tile the text and a
/// pre-token is simply the text between consecutive boundaries. At each position the first alternative that
/// matches wins (leftmost-first, as Oniguruma), which this scanner decides from the class of the current and
/// next character — no backtracking, no allocation.
enum Llama3Splitter {
    static let pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Appends the end offset of every pre-token of `text` to `ends`.
    static func split(_ text: UnsafeBufferPointer<UInt8>, ends: inout [Int32]) {
        let n = text.count
        var p = 0
        while p < n {
            let end = matchEnd(text, at: p)
            ends.append(Int32(end))
            p = end
        }
    }

    @inline(__always)
    private static func matchEnd(_ t: UnsafeBufferPointer<UInt8>, at p: Int) -> Int {
        let n = t.count
        let (c, len) = UTF8Scalars.decode(t, p)
        let next = p + len
        if c == 0x27, let end = contraction(t, after: next) { return end }  // '
        switch CharacterClass.of(c) {
        case .letter:
            return letters(t, from: next)
        case .number:
            var end = next
            for _ in 0..<2 where end < n {
                let (v, l) = UTF8Scalars.decode(t, end)
                guard CharacterClass.of(v) == .number else { break }
                end += l
            }
            return end
        case .other:
            // `[^\r\n\p{L}\p{N}]?\p{L}+` first, else `[^\s\p{L}\p{N}]+[\r\n]*`.
            if next < n && classAt(t, next) == .letter { return letters(t, from: next) }
            return newlines(t, from: others(t, from: next))
        case .space, .newline:
            let isNewline = CharacterClass.of(c) == .newline
            if next < n {
                let following = classAt(t, next)
                if !isNewline && following == .letter { return letters(t, from: next) }
                if c == 0x20 && following == .other { return newlines(t, from: others(t, from: next)) }
            }
            return whitespace(t, from: p)
        }
    }

    /// `\s*[\r\n]+` (through the run's last newline), else `\s+(?!\S)` (all but the last character of a run
    /// followed by a non-space), else `\s+`.
    private static func whitespace(_ t: UnsafeBufferPointer<UInt8>, from p: Int) -> Int {
        let n = t.count
        var end = p
        var count = 0
        var afterNewline = -1
        var lastStart = p
        while end < n {
            let (v, l) = UTF8Scalars.decode(t, end)
            let cls = CharacterClass.of(v)
            guard cls == .space || cls == .newline else { break }
            lastStart = end
            end += l
            count += 1
            if cls == .newline { afterNewline = end }
        }
        if afterNewline >= 0 { return afterNewline }
        if end == n || count == 1 { return end }
        return lastStart
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` after the apostrophe; case-insensitive as Oniguruma, whose case folding
    /// also maps U+017F LATIN SMALL LETTER LONG S to "s".
    private static func contraction(_ t: UnsafeBufferPointer<UInt8>, after i: Int) -> Int? {
        let n = t.count
        guard i < n else { return nil }
        let (v, l) = UTF8Scalars.decode(t, i)
        func lower(_ x: UInt32) -> UInt32 { x >= 0x41 && x <= 0x5A ? x | 0x20 : x }
        switch lower(v) {
        case 0x73, 0x17F, 0x74, 0x6D, 0x64: return i + l  // s ſ t m d
        case 0x72, 0x76:  // r, v: need e
            if i + 1 < n && lower(UInt32(t[i + 1])) == 0x65 { return i + 2 }
        case 0x6C:  // l: needs another l
            if i + 1 < n && lower(UInt32(t[i + 1])) == 0x6C { return i + 2 }
        default: break
        }
        return nil
    }

    @inline(__always)
    private static func classAt(_ t: UnsafeBufferPointer<UInt8>, _ i: Int) -> CharacterClass {
        CharacterClass.of(UTF8Scalars.decode(t, i).value)
    }

    /// End of the run of letters starting at `i`.
    @inline(__always)
    private static func letters(_ t: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var end = i
        while end < t.count {
            let b = t[end]
            if b < 0x80 {
                // ASCII fast path: the common case in prose.
                if (b | 0x20) &- 0x61 < 26 { end += 1; continue }
                break
            }
            let (v, l) = UTF8Scalars.decode(t, end)
            guard CharacterClass.of(v) == .letter else { break }
            end += l
        }
        return end
    }

    /// End of the run of characters that are neither space, letter nor number.
    private static func others(_ t: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var end = i
        while end < t.count {
            let (v, l) = UTF8Scalars.decode(t, end)
            guard CharacterClass.of(v) == .other else { break }
            end += l
        }
        return end
    }

    /// End of the run of \r and \n starting at `i`.
    private static func newlines(_ t: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var end = i
        while end < t.count && (t[end] == 0x0A || t[end] == 0x0D) { end += 1 }
        return end
    }
}
