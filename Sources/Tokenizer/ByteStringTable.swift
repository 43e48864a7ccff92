import Foundation  // memcmp

/// An open-addressing hash table from byte strings to integers, with all keys in one arena.
///
/// Encoding looks up every pre-token (and, on a cache miss, every candidate merge) by its raw bytes; a
/// Swift `Dictionary<[UInt8], Int>` would allocate an array per lookup. Here a lookup hashes the bytes in
/// place and compares against the arena.
struct ByteStringTable {
    private var slots: [Int32]          // index into entries, or -1
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt32] = []
    private var values: [Int] = []
    private var arena: [UInt8] = []
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var count: Int { values.count }
    var arenaBytes: Int { arena.count }

    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261  // FNV-1a
        for b in key { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    func get(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        let h = Self.hash(key)
        var i = Int(h) & mask
        return arena.withUnsafeBufferPointer { arena in
            while true {
                let e = Int(slots[i])
                if e < 0 { return nil }
                if hashes[e] == h && Int(lengths[e]) == key.count {
                    let start = Int(starts[e])
                    if key.count == 0 || memcmp(arena.baseAddress! + start, key.baseAddress!, key.count) == 0 {
                        return values[e]
                    }
                }
                i = (i + 1) & mask
            }
        }
    }

    /// Inserts or overwrites.
    mutating func set(_ key: UnsafeBufferPointer<UInt8>, _ value: Int) {
        if (values.count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(key)
        var i = Int(h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { break }
            if hashes[e] == h && Int(lengths[e]) == key.count
                && arena[Int(starts[e])..<Int(starts[e]) + key.count].elementsEqual(key) {
                values[e] = value
                return
            }
            i = (i + 1) & mask
        }
        slots[i] = Int32(values.count)
        starts.append(Int32(arena.count))
        lengths.append(Int32(key.count))
        hashes.append(h)
        values.append(value)
        arena.append(contentsOf: key)
    }

    mutating func set(_ key: [UInt8], _ value: Int) {
        key.withUnsafeBufferPointer { set($0, value) }
    }

    func get(_ key: [UInt8]) -> Int? {
        key.withUnsafeBufferPointer { get($0) }
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i] = -1 }
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        mask = slots.count - 1
        for e in values.indices {
            var i = Int(hashes[e]) & mask
            while slots[i] >= 0 { i = (i + 1) & mask }
            slots[i] = Int32(e)
        }
    }
}
