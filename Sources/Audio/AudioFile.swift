import Foundation

/// A decoded audio file: interleaved float samples plus what its header says.
///
/// Reads WAV, FLAC, OGG/Vorbis, MP3 and everything else the installed libsndfile decodes. Reading fails with an
/// `AudioError` naming the file for anything that is not a complete, non-empty, finite audio stream.
public struct AudioFile: Sendable {
    public let info: AudioInfo
    /// Interleaved: frame `f`, channel `c` is `samples[f * channels + c]`. Integer formats are scaled to [-1, 1).
    public let samples: [Float]

    public var sampleRate: Int { info.sampleRate }
    public var channels: Int { info.channels }
    public var frames: Int { samples.count / info.channels }
    public var format: AudioFormat { info.format }

    /// Decodes the whole file.
    public static func read(_ url: URL) throws -> AudioFile {
        let file = try SoundFile(readingFrom: url)
        guard file.info.frames > 0 else { throw AudioError.empty(path: file.path, detail: "0 frames") }
        let samples = try file.readAll()
        if let first = samples.firstIndex(where: { !$0.isFinite }) {
            throw AudioError.nonFiniteSamples(path: file.path, count: samples.count { !$0.isFinite },
                                              firstFrame: first / file.info.channels)
        }
        return AudioFile(info: file.info, samples: samples)
    }

    /// Header only: rate, channels, frame count, format. Same checks as `read` except decoding.
    public static func info(_ url: URL) throws -> AudioInfo {
        let file = try SoundFile(readingFrom: url)
        guard file.info.frames > 0 else { throw AudioError.empty(path: file.path, detail: "0 frames") }
        return file.info
    }

    /// The mean over channels of each frame.
    public var monoSamples: [Float] { downmixToMono(samples, channels: channels) }
}

extension AudioFile {
    /// The sample rate Mimi (CSM's codec) works at.
    public static let codecSampleRate = 24_000

    /// Any file → mono (channel mean) float at `sampleRate`, resampled by libsoxr. The default quality is the
    /// Python `soxr` package's default (`soxr.resample(x, in, out)` = HQ), so results match it to float precision.
    public static func loadMono(_ url: URL, sampleRate: Int = codecSampleRate,
                                quality: ResampleQuality = .high) throws -> [Float] {
        let file = try read(url)
        return try Resampler.resample(file.monoSamples, from: Double(file.sampleRate), to: Double(sampleRate),
                                      quality: quality)
    }
}
