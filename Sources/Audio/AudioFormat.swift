import CAudio

/// A file's container and sample encoding, as libsndfile names them (e.g. "WAV (Microsoft)", "Signed 24 bit PCM").
public struct AudioFormat: Equatable, Sendable, CustomStringConvertible {
    /// libsndfile's `SF_FORMAT_*` bits: container | encoding (| endianness).
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public var container: String { Self.name(of: Int(rawValue) & Int(SF_FORMAT_TYPEMASK)) }
    public var encoding: String { Self.name(of: Int(rawValue) & Int(SF_FORMAT_SUBMASK)) }
    public var description: String { "\(container), \(encoding)" }

    /// Whether the installed libsndfile reads MP3 (1.1 and later, when built with mpg123).
    public static let decodesMP3: Bool = {
        var count: Int32 = 0
        sf_command(nil, Int32(SFC_GET_FORMAT_MAJOR_COUNT), &count, Int32(MemoryLayout<Int32>.size))
        return (0 ..< count).contains { index in
            var info = SF_FORMAT_INFO(format: index, name: nil, extension: nil)
            sf_command(nil, Int32(SFC_GET_FORMAT_MAJOR), &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
            return Int(info.format) == Int(SF_FORMAT_MPEG)
        }
    }()

    /// The library's own table of names (looked up by code); the hex code for anything it cannot name.
    private static func name(of code: Int) -> String {
        var info = SF_FORMAT_INFO(format: Int32(code), name: nil, extension: nil)
        guard sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &info, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
              let name = info.name else { return "format 0x\(String(code, radix: 16))" }
        return String(cString: name)
    }
}
