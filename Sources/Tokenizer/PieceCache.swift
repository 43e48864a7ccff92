/// Per-encoder scratch space and the pre-token cache.
struct EncoderState {
    var cache = PieceCache()
    var scratch = BPEScratch()
    var ends: [Int32] = []
    var segments: [AddedTokenMatcher.Segment] = []
}

/// BPE results by pre-token bytes. Bounded: when full it starts over (prose reuses a few thousand words).
struct PieceCache {
    static let maxEntries = 100_000
    static let maxPieceBytes = 256  // as tokenizers: longer pieces are not cached

    private var table = ByteStringTable(capacity: 4096)
    private var ids: [Int32] = []

    @inline(__always)
    func lookup(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) -> Bool {
        guard let packed = table.get(piece) else { return false }
        let start = packed >> 16, count = packed & 0xFFFF
        if count == 1 {
            out.append(ids[start])
        } else {
            out.append(contentsOf: ids[start..<start + count])
        }
        return true
    }

    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, _ result: ArraySlice<Int32>) {
        guard piece.count < Self.maxPieceBytes else { return }
        if table.count >= Self.maxEntries {
            table.removeAll()
            ids.removeAll(keepingCapacity: true)
        }
        table.set(piece, ids.count << 16 | result.count)
        ids.append(contentsOf: result)
    }
}
