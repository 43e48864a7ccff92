import CAudio
import Foundation

/// Writes audio as it is produced: 16-bit PCM WAV to a file whose header is rewritten after every append (so the
/// file is a complete, playable WAV of what has arrived at any moment, and a reader following it sees it grow),
/// or headerless 16-bit little-endian PCM to standard output. Samples are converted exactly as `WAVWriter`'s
/// `.pcm16` (libsndfile, clipped to [-1, 1]), so a stream writes the same bytes as the whole clip at once.
///
/// Unlike `WAVWriter` this writes in place, not through a temporary file: a stream that fails halfway leaves the
/// audio so far (`abandon()` removes it).
public final class WAVStreamWriter {
    public enum Destination: Sendable {
        case file(URL)
        /// Raw s16le samples on stdout, no header: `csm generate --stream --output - | aplay -f S16_LE -r 24000`.
        case standardOutput
    }

    public let destination: Destination
    public let sampleRate: Int
    public let channels: Int
    /// Frames (samples per channel) written so far.
    public private(set) var frames = 0
    private var file: OpaquePointer?

    public init(_ destination: Destination, sampleRate: Int, channels: Int = 1) throws {
        self.destination = destination
        self.sampleRate = sampleRate
        self.channels = channels
        guard sampleRate > 0, channels > 0 else {
            throw AudioError.writeFailed(path: name, reason: "\(channels) channels at \(sampleRate) Hz")
        }
        var info = SF_INFO(frames: 0, samplerate: Int32(sampleRate), channels: Int32(channels), format: 0, sections: 0,
                           seekable: 0)
        switch destination {
        case .file(let url):
            info.format = Int32(SF_FORMAT_WAV) | Int32(SF_FORMAT_PCM_16)
            file = sf_open(url.path, Int32(SFM_WRITE), &info)
        case .standardOutput:
            info.format = Int32(SF_FORMAT_RAW) | Int32(SF_FORMAT_PCM_16) | Int32(SF_ENDIAN_LITTLE)
            file = sf_open_fd(STDOUT_FILENO, Int32(SFM_WRITE), &info, Int32(SF_FALSE))
        }
        guard let file else { throw AudioError.writeFailed(path: name, reason: String(cString: sf_strerror(nil))) }
        // Without clipping, libsndfile lets out-of-range floats wrap around in integer formats.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        if case .file = destination {
            // Rewrite the header's sizes after each write: the file is a valid WAV between appends.
            sf_command(file, Int32(SFC_SET_UPDATE_HEADER_AUTO), nil, Int32(SF_TRUE))
        }
    }

    deinit { if let file { sf_close(file) } }

    /// The path, or `-` for standard output (what error messages name).
    public var name: String {
        if case .file(let url) = destination { return url.path }
        return "-"
    }

    /// Appends interleaved `samples`, handed to the file or pipe before returning (no fsync: other readers see
    /// them at once; durability is not the point).
    public func append(_ samples: [Float]) throws {
        guard let file else { throw AudioError.writeFailed(path: name, reason: "the stream is already finished") }
        guard samples.count % channels == 0 else {
            throw AudioError.writeFailed(path: name, reason: "\(samples.count) samples is not a whole number of "
                                         + "\(channels)-channel frames")
        }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AudioError.writeFailed(path: name, reason: "sample \(frames * channels + bad) is \(samples[bad]); "
                                         + "refusing to write non-finite audio")
        }
        let count = samples.count / channels
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(count)) }
        guard written == count else {
            throw AudioError.writeFailed(path: name, reason: String(cString: sf_strerror(file)))
        }
        frames += count  // libsndfile writes straight to the descriptor: readers see the samples now
    }

    /// Closes the stream; the header (for a file) is final.
    public func finish() throws {
        guard let file else { return }
        self.file = nil
        let status = sf_close(file)
        guard status == 0 else { throw AudioError.writeFailed(path: name, reason: String(cString: sf_error_number(status))) }
    }

    /// Closes the stream and removes the file written so far (after a failure).
    public func abandon() {
        if let file { sf_close(file) }
        file = nil
        if case .file(let url) = destination { try? FileManager.default.removeItem(at: url) }
    }
}
