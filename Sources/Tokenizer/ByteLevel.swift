/// GPT-2's reversible map between the 256 byte values and printable characters.
///
/// Byte-level BPE vocabularies spell every token with these characters (a space is "Ġ", a newline "Ċ"), so
/// that any byte string is a string of vocabulary symbols. We go the other way once at load time and key the
/// vocabulary by raw bytes, so encoding never builds the mapped strings.
enum ByteLevel {
    /// The character standing for each byte.
    static let scalarForByte: [Unicode.Scalar] = {
        // Printable Latin-1 bytes stand for themselves; the rest, in order, for U+0100, U+0101, …
        let printable = Set(Array(UInt32(33)...126) + Array(UInt32(161)...172) + Array(UInt32(174)...255))
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if printable.contains(UInt32(b)) {
                scalars[b] = Unicode.Scalar(UInt32(b))!
            } else {
                scalars[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return scalars
    }()

    /// The byte a character stands for, indexed by scalar value (all of them are below 0x144).
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in scalarForByte.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// The bytes a mapped token stands for, or nil when some character is outside the map.
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for s in token.unicodeScalars {
            guard Int(s.value) < byteForScalar.count, byteForScalar[Int(s.value)] >= 0 else { return nil }
            out.append(UInt8(byteForScalar[Int(s.value)]))
        }
        return out
    }

    /// The mapped spelling of raw bytes (what the ByteLevel pre-tokenizer produces).
    static func token(for bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }
}
