import Foundation

/// Size and a pixel census of an 8-bit RGB/RGBA PNG (what Chromium writes). Foundation on Linux has no
/// zlib, so the image data is inflated by the small `Inflate` below; test code, clear over fast.
struct PNGSummary {
    let width: Int, height: Int
    let distinctColors: Int
    let nonBackgroundFraction: Double

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 33, bytes[0 ..< 8] == [137, 80, 78, 71, 13, 10, 26, 10] else { throw PNGError("not a PNG") }
        func u32(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
        var at = 8, idat: [UInt8] = [], w = 0, h = 0, channels = 0
        while at + 8 <= bytes.count {
            let length = u32(at), type = String(decoding: bytes[at + 4 ..< at + 8], as: UTF8.self)
            let body = Array(bytes[at + 8 ..< at + 8 + length])
            if type == "IHDR" {
                w = u32(at + 8); h = u32(at + 12)
                guard body[8] == 8, [2, 6].contains(body[9]) else { throw PNGError("only 8-bit RGB/RGBA (got \(body[8])/\(body[9]))") }
                channels = body[9] == 6 ? 4 : 3
            } else if type == "IDAT" {
                idat += body
            }
            at += 12 + length
        }
        let raw = try Inflate.zlib(idat)
        let stride = w * channels
        guard raw.count == h * (stride + 1) else { throw PNGError("decoded \(raw.count) bytes, expected \(h * (stride + 1))") }
        var previous = [UInt8](repeating: 0, count: stride), row = previous
        var counts: [UInt32: Int] = [:]
        for y in 0 ..< h {
            let filter = raw[y * (stride + 1)]
            for x in 0 ..< stride {
                let v = raw[y * (stride + 1) + 1 + x]
                let a = x >= channels ? Int(row[x - channels]) : 0, b = Int(previous[x])
                let c = x >= channels ? Int(previous[x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw PNGError("bad filter \(filter)")
                }
                row[x] = UInt8((Int(v) + predicted) & 0xff)
            }
            for x in Swift.stride(from: 0, to: stride, by: channels) {
                counts[UInt32(row[x]) << 16 | UInt32(row[x + 1]) << 8 | UInt32(row[x + 2]), default: 0] += 1
            }
            swap(&previous, &row)
        }
        width = w
        height = h
        distinctColors = counts.count
        let background = counts.values.max() ?? 0
        nonBackgroundFraction = 1 - Double(background) / Double(max(w * h, 1))
    }
}

struct PNGError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// RFC 1950/1951 inflate, enough for PNG image data (a test helper: clear over fast).
enum Inflate {
    static func zlib(_ input: [UInt8]) throws -> [UInt8] {
        guard input.count > 2, (Int(input[0]) << 8 | Int(input[1])) % 31 == 0 else { throw PNGError("bad zlib header") }
        var bits = BitReader(bytes: input, position: 2 * 8)
        var out: [UInt8] = []
        var final = false
        while !final {
            final = try bits.read(1) == 1
            switch try bits.read(2) {
            case 0:
                bits.position = (bits.position + 7) & ~7
                let len = try bits.read(16)
                _ = try bits.read(16)
                for _ in 0 ..< len { out.append(UInt8(try bits.read(8))) }
            case 1:
                try inflateBlock(&bits, &out, Huffman(lengths: (0 ..< 288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 }),
                                 Huffman(lengths: Array(repeating: 5, count: 30)))
            case 2:
                let hlit = try bits.read(5) + 257, hdist = try bits.read(5) + 1, hclen = try bits.read(4) + 4
                let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                var codeLengths = [Int](repeating: 0, count: 19)
                for i in 0 ..< hclen { codeLengths[order[i]] = try bits.read(3) }
                let lengthCode = Huffman(lengths: codeLengths)
                var lengths: [Int] = []
                while lengths.count < hlit + hdist {
                    let sym = try lengthCode.decode(&bits)
                    switch sym {
                    case 0 ..< 16: lengths.append(sym)
                    case 16: lengths += Array(repeating: lengths.last ?? 0, count: 3 + (try bits.read(2)))
                    case 17: lengths += Array(repeating: 0, count: 3 + (try bits.read(3)))
                    default: lengths += Array(repeating: 0, count: 11 + (try bits.read(7)))
                    }
                }
                try inflateBlock(&bits, &out, Huffman(lengths: Array(lengths[0 ..< hlit])), Huffman(lengths: Array(lengths[hlit...])))
            default: throw PNGError("bad deflate block type")
            }
        }
        return out
    }

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
                           4097, 6145, 8193, 12289, 16385, 24577]
    static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    static func inflateBlock(_ bits: inout BitReader, _ out: inout [UInt8], _ lit: Huffman, _ dist: Huffman) throws {
        while true {
            let sym = try lit.decode(&bits)
            if sym < 256 { out.append(UInt8(sym)); continue }
            if sym == 256 { return }
            let length = lengthBase[sym - 257] + (try bits.read(lengthExtra[sym - 257]))
            let d = try dist.decode(&bits)
            let distance = distBase[d] + (try bits.read(distExtra[d]))
            guard distance <= out.count else { throw PNGError("bad distance") }
            for _ in 0 ..< length { out.append(out[out.count - distance]) }
        }
    }

    struct BitReader {
        let bytes: [UInt8]
        var position: Int

        mutating func read(_ n: Int) throws -> Int {
            var v = 0
            for i in 0 ..< n {
                guard position >> 3 < bytes.count else { throw PNGError("truncated deflate stream") }
                v |= Int(bytes[position >> 3] >> (position & 7) & 1) << i
                position += 1
            }
            return v
        }
    }

    /// Canonical Huffman code: symbols by (length, value).
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            for l in 1 ..< 16 { for (s, len) in lengths.enumerated() where len == l { symbols.append(s) } }
        }

        func decode(_ bits: inout BitReader) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1 ..< 16 {
                code |= try bits.read(1)
                let count = counts[len]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw PNGError("bad Huffman code")
        }
    }
}
