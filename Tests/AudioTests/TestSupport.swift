import Foundation
@testable import Audio
import TestSupport

/// Tests/Fixtures/audio, written by tools/fixtures/audio.py.
let audioFixtures = fixturesFolder.appendingPathComponent("audio")

/// A fresh directory under the system temp dir; removed by the caller's `defer`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("audio-tests-\(getpid())-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Raw little-endian float32 (the fixtures' `.f32`).
func readFloat32(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
        (0 ..< data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
    }
}

/// Hand-built WAV bytes, for headers no well-behaved writer produces (zero channels, lying sizes, NaN floats).
struct RIFFWAV {
    var formatTag: UInt16 = 1  // 1 PCM, 3 IEEE float
    var channels: UInt16 = 1
    var sampleRate: UInt32 = 16_000
    var bitsPerSample: UInt16 = 16
    var payload = Data()
    /// What the `data` chunk header claims; nil = the payload's true size.
    var declaredDataSize: UInt32? = nil

    var bytes: Data {
        let blockAlign = UInt16(max(Int(channels), 1) * Int(bitsPerSample) / 8)
        var fmt = Data()
        fmt.append(le: formatTag); fmt.append(le: channels); fmt.append(le: sampleRate)
        fmt.append(le: sampleRate * UInt32(blockAlign)); fmt.append(le: blockAlign); fmt.append(le: bitsPerSample)
        var body = Data("WAVE".utf8)
        body.append(Data("fmt ".utf8)); body.append(le: UInt32(fmt.count)); body.append(fmt)
        body.append(Data("data".utf8)); body.append(le: declaredDataSize ?? UInt32(payload.count)); body.append(payload)
        var file = Data("RIFF".utf8)
        file.append(le: UInt32(body.count)); file.append(body)
        return file
    }

    static func pcm16(_ values: [Int16]) -> Data {
        var d = Data(); for v in values { d.append(le: UInt16(bitPattern: v)) }; return d
    }

    static func float32(_ values: [Float]) -> Data {
        var d = Data(); for v in values { d.append(le: v.bitPattern) }; return d
    }
}

extension Data {
    mutating func append<T: FixedWidthInteger>(le value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
