import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.<time>.<host>`) with scalar summaries, the
/// format `torch.utils.tensorboard.SummaryWriter` writes and `wandb sync --sync-tensorboard` reads.
///
/// A file is a sequence of TFRecords: `u64 length, u32 masked-crc32c(length), bytes, u32
/// masked-crc32c(bytes)`, each holding a serialized `tensorflow.Event` protobuf. The first
/// record carries `file_version = "brain.Event:2"`.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle

    public init(logDir: URL) throws {
        try FileManager.default.createDirectory(at: logDir, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName
        let name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid())"
        url = logDir.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ConfigError("\(url.path): cannot create the TensorBoard event file")
        }
        handle = try FileHandle(forWritingTo: url)
        var event = Protobuf()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        try append(event.bytes)
    }

    deinit { try? handle.close() }

    /// One event with a scalar per tag, at `step`.
    public func scalars(_ values: [(tag: String, value: Double)], step: Int, wallTime: Date = Date()) throws {
        var summary = Protobuf()
        for (tag, value) in values {
            var v = Protobuf()
            v.string(1, tag)
            v.float(2, Float(value))
            summary.message(1, v)
        }
        var event = Protobuf()
        event.double(1, wallTime.timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.message(5, summary)
        try append(event.bytes)
    }

    public func flush() throws { try handle.synchronize() }

    private func append(_ record: [UInt8]) throws {
        var out: [UInt8] = []
        let length = UInt64(record.count)
        let lengthBytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
        out += lengthBytes
        out += withUnsafeBytes(of: CRC32C.masked(lengthBytes).littleEndian) { Array($0) }
        out += record
        out += withUnsafeBytes(of: CRC32C.masked(record).littleEndian) { Array($0) }
        try handle.write(contentsOf: out)
    }
}

/// Reads scalar events back (tests and the HTML report), verifying every checksum.
public enum TensorBoardReader {
    public struct Scalar: Equatable, Sendable {
        public let step: Int
        public let tag: String
        public let value: Float
    }

    public static func scalars(in url: URL) throws -> [Scalar] {
        let data = [UInt8](try Data(contentsOf: url))
        var out: [Scalar] = []
        var i = 0
        func fail(_ why: String) -> ConfigError { ConfigError("\(url.lastPathComponent): corrupt event file (\(why) at byte \(i))") }
        while i < data.count {
            guard i + 12 <= data.count else { throw fail("truncated header") }
            let lengthBytes = Array(data[i ..< i + 8])
            let length = Int(lengthBytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
            let lengthCRC = data[i + 8 ..< i + 12].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian
            guard lengthCRC == CRC32C.masked(lengthBytes) else { throw fail("bad length checksum") }
            guard i + 12 + length + 4 <= data.count else { throw fail("truncated record") }
            let record = Array(data[i + 12 ..< i + 12 + length])
            let crc = data[i + 12 + length ..< i + 16 + length].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian
            guard crc == CRC32C.masked(record) else { throw fail("bad record checksum") }
            i += 16 + length

            var step = 0
            var values: [(String, Float)] = []
            for field in try Protobuf.fields(record) {
                if field.number == 2 { step = Int(Int64(bitPattern: field.varint)) }
                if field.number == 5 {
                    for value in try Protobuf.fields(field.bytes) where value.number == 1 {
                        var tag = "", number: Float? = nil
                        for f in try Protobuf.fields(value.bytes) {
                            if f.number == 1 { tag = String(decoding: f.bytes, as: UTF8.self) }
                            if f.number == 2 { number = Float(bitPattern: UInt32(truncatingIfNeeded: f.varint)) }
                        }
                        if let number { values.append((tag, number)) }
                    }
                }
            }
            out += values.map { Scalar(step: step, tag: $0.0, value: $0.1) }
        }
        return out
    }
}

/// Just enough protobuf encoding and decoding for TensorBoard events.
struct Protobuf {
    private(set) var bytes: [UInt8] = []

    private mutating func key(_ field: Int, _ wire: UInt64) { rawVarint(UInt64(field) << 3 | wire) }

    private mutating func rawVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) { key(field, 0); rawVarint(value) }
    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
    mutating func data(_ field: Int, _ value: [UInt8]) { key(field, 2); rawVarint(UInt64(value.count)); bytes += value }
    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }
    mutating func message(_ field: Int, _ value: Protobuf) { data(field, value.bytes) }

    struct Field {
        let number: Int
        var varint: UInt64 = 0  // also the raw bits of fixed32/fixed64 fields
        var bytes: [UInt8] = []
    }

    static func fields(_ buffer: [UInt8]) throws -> [Field] {
        var out: [Field] = []
        var i = 0
        func readVarint() throws -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < buffer.count, shift < 64 else { throw ConfigError("malformed protobuf varint") }
                let b = buffer[i]
                i += 1
                result |= UInt64(b & 0x7f) << shift
                if b < 0x80 { return result }
                shift += 7
            }
        }
        func fixed(_ n: Int) throws -> UInt64 {
            guard i + n <= buffer.count else { throw ConfigError("malformed protobuf fixed field") }
            var v: UInt64 = 0
            for k in 0 ..< n { v |= UInt64(buffer[i + k]) << (8 * UInt64(k)) }
            i += n
            return v
        }
        while i < buffer.count {
            let key = try readVarint()
            var field = Field(number: Int(key >> 3))
            switch key & 7 {
            case 0: field.varint = try readVarint()
            case 1: field.varint = try fixed(8)
            case 5: field.varint = try fixed(4)
            case 2:
                let n = Int(try readVarint())
                guard i + n <= buffer.count else { throw ConfigError("malformed protobuf length") }
                field.bytes = Array(buffer[i ..< i + n])
                i += n
            default: throw ConfigError("unsupported protobuf wire type \(key & 7)")
            }
            out.append(field)
        }
        return out
    }
}

/// CRC-32C (Castagnoli) with TFRecord's masking.
enum CRC32C {
    private static let table: [UInt32] = (0 ..< 256).map { n in
        var c = UInt32(n)
        for _ in 0 ..< 8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}
