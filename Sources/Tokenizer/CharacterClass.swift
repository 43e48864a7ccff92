/// The character classes of the Llama-3 split regex: `\p{L}`, `\p{N}`, `\s` (and `[\r\n]` within it).
///
/// `tokenizers` runs the regex on Oniguruma, whose Unicode tables are older than Swift's: a character that
/// Unicode assigned after that version is unassigned there (neither letter nor number), so we ignore Swift's
/// classification for scalars newer than `CharacterClass.unicodeVersion`. The fixture's random code points
/// from every plane pin this down.
enum CharacterClass: UInt8 {
    case letter, number, space, newline, other

    /// The Oniguruma in `tokenizers` 0.23 knows Unicode 16.0 (it classes U+10D4A GARAY LETTER as a letter).
    static let unicodeVersion = (major: 16, minor: 0)

    private static let ascii: [CharacterClass] = (0..<128).map { v in
        switch UInt8(v) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return .letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case 0x0A, 0x0D: return .newline
        case 0x09, 0x0B, 0x0C, 0x20: return .space
        default: return .other
        }
    }

    @inline(__always)
    static func of(_ v: UInt32) -> CharacterClass {
        if v < 128 { return ascii[Int(v)] }
        return nonASCII(v)
    }

    private static func nonASCII(_ v: UInt32) -> CharacterClass {
        guard let scalar = Unicode.Scalar(v) else { return .other }
        let p = scalar.properties
        if p.isWhitespace { return .space }
        if let age = p.age, (age.major, age.minor) > unicodeVersion { return .other }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// Rust regex's `\w` (used by added tokens' `single_word`): alphabetic, marks, decimal digits,
    /// connector punctuation, join controls.
    static func isWordCharacter(_ v: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(v) else { return false }
        let p = scalar.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    static func isWhitespace(_ v: UInt32) -> Bool {
        Unicode.Scalar(v)?.properties.isWhitespace ?? false
    }
}

/// Decoding scalars straight from (valid) UTF-8 bytes.
enum UTF8Scalars {
    @inline(__always)
    static func length(lead b: UInt8) -> Int {
        b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
    }

    /// The scalar at `i` and its byte length.
    @inline(__always)
    static func decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
    }

    /// The start of the scalar that ends at `end` (exclusive).
    @inline(__always)
    static func previousStart(_ p: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        var i = end - 1
        while i > 0 && p[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }
}
