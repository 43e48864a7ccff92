/// The `BPE` model of a tokenizer.json: vocabulary, ranked merges, and the merge loop.
///
/// Symbols are ids from the start: a pre-token's bytes (byte-level) or characters become the ids of their
/// one-unit tokens, then adjacent pairs merge lowest rank first, leftmost first among equal ranks — the order
/// `tokenizers`' `Word::merge_all` follows with its priority queue.
struct BPEModel {
    /// Token id by its raw spelling (bytes for a byte-level vocabulary, UTF-8 otherwise).
    let vocab: ByteStringTable
    let merges: MergeTable
    /// `ignore_merges` (Llama-3 sets it): a pre-token that is itself a token is emitted as that one id.
    let ignoreMerges: Bool
    /// Whether symbols start as single bytes (byte-level vocabulary) or as single characters.
    let byteLevel: Bool
    let unknownId: Int32?
    let fuseUnknown: Bool
    /// Id of each single byte (byte-level), -1 where the vocabulary lacks it.
    let byteIds: [Int32]

    /// Pieces up to this many symbols merge by rescanning a rank array; longer ones use a heap (O(n log n)).
    static let linearLimit = 48

    /// Appends the ids of one pre-token.
    func tokenize(_ piece: UnsafeBufferPointer<UInt8>, scratch: inout BPEScratch, into out: inout [Int32]) {
        if piece.isEmpty { return }
        if ignoreMerges, let id = vocab.get(piece) {
            out.append(Int32(id))
            return
        }
        initialSymbols(piece, into: &scratch.ids)
        if scratch.ids.count <= Self.linearLimit {
            mergeLinear(&scratch)
        } else {
            mergeWithHeap(&scratch)
        }
        out.append(contentsOf: scratch.ids)
    }

    /// One symbol per byte or character; units missing from the vocabulary become `unk` (fused when asked)
    /// or vanish, as in `tokenizers` without byte fallback.
    private func initialSymbols(_ piece: UnsafeBufferPointer<UInt8>, into ids: inout [Int32]) {
        ids.removeAll(keepingCapacity: true)
        var lastWasUnknown = false
        func add(_ id: Int32?) {
            if let id {
                ids.append(id)
                lastWasUnknown = false
            } else if let unk = unknownId {
                if !(fuseUnknown && lastWasUnknown) { ids.append(unk) }
                lastWasUnknown = true
            }
        }
        if byteLevel {
            for b in piece {
                let id = byteIds[Int(b)]
                add(id >= 0 ? id : nil)
            }
        } else {
            var i = 0
            while i < piece.count {
                let n = UTF8Scalars.length(lead: piece[i])
                let unit = UnsafeBufferPointer(rebasing: piece[i..<min(i + n, piece.count)])
                add(vocab.get(unit).map { Int32($0) })
                i += n
            }
        }
    }

    private func mergeLinear(_ s: inout BPEScratch) {
        var n = s.ids.count
        if n < 2 { return }
        s.ranks.removeAll(keepingCapacity: true)
        s.merged.removeAll(keepingCapacity: true)
        for i in 0..<(n - 1) {
            let m = merges.get(s.ids[i], s.ids[i + 1])
            s.ranks.append(m?.rank ?? Int32.max)
            s.merged.append(m?.id ?? -1)
        }
        while n > 1 {
            var best = 0
            var bestRank = s.ranks[0]
            for i in 1..<(n - 1) where s.ranks[i] < bestRank {
                best = i
                bestRank = s.ranks[i]
            }
            if bestRank == Int32.max { break }
            s.ids[best] = s.merged[best]
            s.ids.remove(at: best + 1)
            s.ranks.remove(at: best)
            s.merged.remove(at: best)
            n -= 1
            if best > 0 { refresh(&s, best - 1) }
            if best < n - 1 { refresh(&s, best) }
        }

        func refresh(_ s: inout BPEScratch, _ i: Int) {
            let m = merges.get(s.ids[i], s.ids[i + 1])
            s.ranks[i] = m?.rank ?? Int32.max
            s.merged[i] = m?.id ?? -1
        }
    }

    /// `tokenizers`' algorithm: a min-heap of candidate merges keyed by (rank, position) over a linked list of
    /// symbols; entries made stale by an earlier merge are skipped when popped.
    private func mergeWithHeap(_ s: inout BPEScratch) {
        let n = s.ids.count
        var prev = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(i - 1) }
            count = n
        }
        var next = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = i + 1 < n ? Int32(i + 1) : -1 }
            count = n
        }
        var alive = [Bool](repeating: true, count: n)
        var heap = MergeHeap()
        for i in 0..<(n - 1) {
            if let m = merges.get(s.ids[i], s.ids[i + 1]) { heap.push(m.rank, Int32(i), m.id) }
        }
        while let top = heap.pop() {
            let pos = Int(top.pos)
            guard alive[pos], next[pos] >= 0 else { continue }
            let right = Int(next[pos])
            guard let m = merges.get(s.ids[pos], s.ids[right]), m.id == top.id else { continue }
            s.ids[pos] = m.id
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(pos) }
            if prev[pos] >= 0, let l = merges.get(s.ids[Int(prev[pos])], m.id) {
                heap.push(l.rank, prev[pos], l.id)
            }
            if next[pos] >= 0, let r = merges.get(m.id, s.ids[Int(next[pos])]) {
                heap.push(r.rank, Int32(pos), r.id)
            }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i = 0
        while i >= 0 {
            out.append(s.ids[i])
            i = Int(next[i])
        }
        s.ids = out
    }
}

/// Buffers reused across pre-tokens so the merge loop allocates nothing in steady state.
struct BPEScratch {
    var ids: [Int32] = []
    var ranks: [Int32] = []
    var merged: [Int32] = []
}

/// A binary min-heap of (rank, position) with the merged id alongside.
struct MergeHeap {
    struct Entry {
        var key: UInt64  // rank << 32 | position: orders by rank, then leftmost
        var id: Int32
        var pos: Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }
    }

    private var items: [Entry] = []

    mutating func push(_ rank: Int32, _ pos: Int32, _ id: Int32) {
        items.append(Entry(key: UInt64(UInt32(rank)) << 32 | UInt64(UInt32(pos)), id: id))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if items[parent].key <= items[i].key { break }
            items.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].key < items[m].key { m = l }
            if r < items.count && items[r].key < items[m].key { m = r }
            if m == i { break }
            items.swapAt(m, i)
            i = m
        }
        return first
    }
}
