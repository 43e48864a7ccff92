import CAudio
import Foundation

/// Writes WAV files atomically: the audio goes to a temporary file next to the target, which is renamed over it
/// only when complete, so a crash never leaves a half-written WAV under the real name.
public enum WAVWriter {
    public enum Encoding: Sendable {
        /// Signed 16-bit PCM; samples are clipped to [-1, 1] and scaled by 32767 (libsndfile's convention).
        case pcm16
        /// IEEE 32-bit float; samples stored as they are.
        case float32

        var subtype: Int32 { self == .pcm16 ? Int32(SF_FORMAT_PCM_16) : Int32(SF_FORMAT_FLOAT) }
    }

    /// Writes interleaved `samples` (`channels` per frame) at `sampleRate` to `url`.
    public static func write(_ samples: [Float], sampleRate: Int, channels: Int = 1, encoding: Encoding = .pcm16,
                             to url: URL) throws {
        let path = url.path
        guard sampleRate > 0, channels > 0, samples.count % channels == 0 else {
            throw AudioError.writeFailed(path: path, reason: "\(samples.count) samples, \(channels) channels at "
                                         + "\(sampleRate) Hz is not a whole number of frames at a positive rate")
        }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AudioError.writeFailed(path: path, reason: "sample \(bad) is \(samples[bad]); refusing to write non-finite audio")
        }

        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp").path
        var info = SF_INFO(frames: 0, samplerate: Int32(sampleRate), channels: Int32(channels),
                           format: Int32(SF_FORMAT_WAV) | encoding.subtype, sections: 0, seekable: 0)
        guard let file = sf_open(temporary, Int32(SFM_WRITE), &info) else {
            throw AudioError.writeFailed(path: path, reason: String(cString: sf_strerror(nil)))
        }
        // Without clipping, libsndfile lets out-of-range floats wrap around in integer formats.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let frames = samples.count / channels
        let written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        let writeError = written == frames ? nil : String(cString: sf_strerror(file))
        sf_write_sync(file)
        let closeStatus = sf_close(file)

        if let reason = writeError ?? (closeStatus == 0 ? nil : String(cString: sf_error_number(closeStatus))) {
            unlink(temporary)
            throw AudioError.writeFailed(path: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AudioError.writeFailed(path: path, reason: reason)
        }
    }
}
