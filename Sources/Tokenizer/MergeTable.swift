/// BPE merges as a hash table from a pair of token ids to (rank, id of the merged token).
///
/// Ranks are the merges' line numbers: a lower rank merges first. Open addressing over packed 64-bit keys
/// keeps a lookup to a multiply and (usually) one probe.
struct MergeTable {
    struct Merge {
        var rank: Int32
        var id: Int32
    }

    private var keys: [UInt64]
    private var merges: [Merge]
    private let mask: Int
    private static let empty = UInt64.max

    init(_ entries: [(left: Int32, right: Int32, merge: Merge)]) {
        var size = 16
        while size < entries.count * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        merges = [Merge](repeating: Merge(rank: 0, id: 0), count: size)
        mask = size - 1
        for e in entries {
            let key = Self.key(e.left, e.right)
            var i = Self.slot(key) & mask
            // Like tokenizers' HashMap built from the merges list, a later duplicate overwrites.
            while keys[i] != Self.empty && keys[i] != key { i = (i + 1) & mask }
            keys[i] = key
            merges[i] = e.merge
        }
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    @inline(__always)
    private static func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    @inline(__always)
    func get(_ a: Int32, _ b: Int32) -> Merge? {
        let key = Self.key(a, b)
        var i = Self.slot(key) & mask
        while true {
            let k = keys[i]
            if k == key { return merges[i] }
            if k == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }
}
