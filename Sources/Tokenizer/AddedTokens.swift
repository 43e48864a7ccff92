/// One entry of tokenizer.json's `added_tokens`.
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int
    public var special: Bool
    public var singleWord: Bool
    public var lstrip: Bool
    public var rstrip: Bool
    public var normalized: Bool
}

/// Finds added tokens in text before anything else runs, as `tokenizers`' `AddedVocabulary`:
/// leftmost-longest matches (its Aho-Corasick automaton), then `single_word` discards a match glued to a
/// word character, and `lstrip`/`rstrip` widen a match over the whitespace beside it (which then vanishes).
struct AddedTokenMatcher {
    /// A run of text: an added token's id, or -1 for text still to tokenize.
    struct Segment {
        var start: Int
        var end: Int
        var id: Int
    }

    private var tokens: [AddedToken] = []
    private var children: [[UInt8: Int32]] = [[:]]
    private var terminal: [Int32] = [-1]  // index into tokens
    private var firstByte = [Bool](repeating: false, count: 256)

    var isEmpty: Bool { tokens.isEmpty }

    init(_ tokens: [AddedToken]) {
        for t in tokens where !t.content.isEmpty { insert(t) }
    }

    private mutating func insert(_ token: AddedToken) {
        var node = 0
        for b in token.content.utf8 {
            if let next = children[node][b] {
                node = Int(next)
            } else {
                children.append([:])
                terminal.append(-1)
                children[node][b] = Int32(children.count - 1)
                node = children.count - 1
            }
        }
        firstByte[Int(token.content.utf8.first!)] = true
        if terminal[node] >= 0 {
            tokens[Int(terminal[node])] = token  // same content twice: the later entry wins, as a map insert
        } else {
            terminal[node] = Int32(tokens.count)
            tokens.append(token)
        }
    }

    /// Longest token starting at `i`, as (token index, end).
    @inline(__always)
    private func longest(_ t: UnsafeBufferPointer<UInt8>, at i: Int) -> (Int, Int)? {
        var node = 0
        var best: (Int, Int)?
        var j = i
        while j < t.count, let next = children[node][t[j]] {
            node = Int(next)
            j += 1
            if terminal[node] >= 0 { best = (Int(terminal[node]), j) }
        }
        return best
    }

    /// Cuts `t` into free text and added tokens; appends to `out`.
    func split(_ t: UnsafeBufferPointer<UInt8>, into out: inout [Segment]) {
        if tokens.isEmpty {
            out.append(Segment(start: 0, end: t.count, id: -1))
            return
        }
        var done = 0  // end of what has been emitted
        var i = 0
        while i < t.count {
            guard firstByte[Int(t[i])], let (index, matchEnd) = longest(t, at: i) else {
                i += 1
                continue
            }
            let token = tokens[index]
            var start = i
            var stop = matchEnd
            i = matchEnd  // matches never overlap, even when discarded below
            if token.singleWord {
                let startOK = start == 0 || !Self.endsWithWord(t, before: start)
                let stopOK = stop == t.count || !Self.startsWithWord(t, at: stop)
                if !startOK || !stopOK { continue }
            }
            if token.lstrip { start = max(Self.whitespaceStart(t, before: start), done) }
            if token.rstrip { stop = Self.whitespaceEnd(t, from: stop) }
            if done < start { out.append(Segment(start: done, end: start, id: -1)) }
            out.append(Segment(start: start, end: stop, id: token.id))
            done = stop
            i = max(i, stop)
        }
        if done < t.count { out.append(Segment(start: done, end: t.count, id: -1)) }
    }

    private static func endsWithWord(_ t: UnsafeBufferPointer<UInt8>, before end: Int) -> Bool {
        let s = UTF8Scalars.previousStart(t, before: end)
        return CharacterClass.isWordCharacter(UTF8Scalars.decode(t, s).value)
    }

    private static func startsWithWord(_ t: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        CharacterClass.isWordCharacter(UTF8Scalars.decode(t, i).value)
    }

    private static func whitespaceStart(_ t: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        var i = end
        while i > 0 {
            let s = UTF8Scalars.previousStart(t, before: i)
            guard CharacterClass.isWhitespace(UTF8Scalars.decode(t, s).value) else { break }
            i = s
        }
        return i
    }

    private static func whitespaceEnd(_ t: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < t.count {
            let (v, l) = UTF8Scalars.decode(t, i)
            guard CharacterClass.isWhitespace(v) else { break }
            i += l
        }
        return i
    }
}
