import Crypto
import Foundation

/// SHA-256 (swift-crypto) as 64 lowercase hex digits, fed in pieces: fingerprints and conversation signatures are
/// stored as hex strings.
public struct SHA256 {
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ buffer: UnsafeRawBufferPointer) { hasher.update(bufferPointer: buffer) }
    public mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
    public mutating func update(_ string: String) { hasher.update(data: Array(string.utf8)) }

    public func finalize() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    public static func hex(_ bytes: [UInt8]) -> String {
        var h = SHA256()
        h.update(bytes)
        return h.finalize()
    }
}
