import CAudio
import Foundation

/// Encodes audio into memory with libsndfile (its virtual I/O), so bytes sent over a network are those
/// `WAVWriter`/`WAVStreamWriter` would write to a file: the same float → 16-bit conversion (clipped to [-1, 1]),
/// the same FLAC encoder.
///
/// `.rawPCM16` is a stream: after each `append`, `takeBytes()` hands on the s16le samples encoded so far.
/// `.wav` and `.flac` are whole files: their headers hold the length, which libsndfile fills in at `finish()`.
/// FLAC gets the 16-bit samples of the PCM conversion (libsndfile's FLAC writer scales floats by 32767 where its
/// PCM writer scales by 32768), so it decodes to exactly the samples of a WAV or pcm stream of the same audio.
public final class MemoryAudioEncoder {
    public enum Format: Sendable {
        /// Headerless signed 16-bit little-endian samples.
        case rawPCM16
        /// 16-bit PCM WAV.
        case wav
        /// 16-bit FLAC.
        case flac

        var code: Int32 {
            switch self {
            case .rawPCM16: return Int32(SF_FORMAT_RAW) | Int32(SF_FORMAT_PCM_16) | Int32(SF_ENDIAN_LITTLE)
            case .wav: return Int32(SF_FORMAT_WAV) | Int32(SF_FORMAT_PCM_16)
            case .flac: return Int32(SF_FORMAT_FLAC) | Int32(SF_FORMAT_PCM_16)
            }
        }
    }

    public let format: Format
    public let sampleRate: Int
    public let channels: Int
    private let memory = MemoryFile()
    private var file: OpaquePointer?
    /// FLAC's float → 16-bit conversion: the raw PCM encoder's.
    private let pcm: MemoryAudioEncoder?

    public init(_ format: Format, sampleRate: Int, channels: Int = 1) throws {
        self.format = format
        self.sampleRate = sampleRate
        self.channels = channels
        pcm = format == .flac ? try MemoryAudioEncoder(.rawPCM16, sampleRate: sampleRate, channels: channels) : nil
        var info = SF_INFO(frames: 0, samplerate: Int32(sampleRate), channels: Int32(channels), format: format.code,
                           sections: 0, seekable: 0)
        var io = MemoryFile.virtualIO
        file = sf_open_virtual(&io, Int32(SFM_WRITE), &info, Unmanaged.passUnretained(memory).toOpaque())
        guard let file else {
            throw AudioError.writeFailed(path: "(memory)", reason: String(cString: sf_strerror(nil)))
        }
        // Without clipping, libsndfile lets out-of-range floats wrap around in integer formats.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
    }

    deinit { if let file { sf_close(file) } }

    /// Encodes interleaved `samples` (libsndfile hands the bytes of a raw stream on before returning).
    public func append(_ samples: [Float]) throws {
        guard let file else { throw AudioError.writeFailed(path: "(memory)", reason: "the encoder is finished") }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AudioError.writeFailed(path: "(memory)", reason: "sample \(bad) of a chunk is \(samples[bad]); "
                                         + "refusing to encode non-finite audio")
        }
        guard samples.count % channels == 0 else {
            throw AudioError.writeFailed(path: "(memory)", reason: "\(samples.count) samples is not a whole number "
                                         + "of \(channels)-channel frames")
        }
        let frames = samples.count / channels
        let written: sf_count_t
        if let pcm {
            try pcm.append(samples)
            let shorts = pcm.takeBytes().withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
                .map { Int16(littleEndian: $0) }
            written = shorts.withUnsafeBufferPointer { sf_writef_short(file, $0.baseAddress, sf_count_t(frames)) }
        } else {
            written = samples.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(frames)) }
        }
        guard written == frames, memory.failure == nil else {
            throw AudioError.writeFailed(path: "(memory)", reason: memory.failure ?? String(cString: sf_strerror(file)))
        }
    }

    /// The bytes encoded since the last call (a raw stream's samples so far).
    public func takeBytes() -> Data { memory.take() }

    /// Closes the encoder (a file's header now holds its length) and returns the bytes not taken yet.
    public func finish() throws -> Data {
        if let file {
            self.file = nil
            let status = sf_close(file)
            guard status == 0, memory.failure == nil else {
                throw AudioError.writeFailed(path: "(memory)",
                                             reason: memory.failure ?? String(cString: sf_error_number(status)))
            }
        }
        return memory.take()
    }

    /// The 44-byte header of a 16-bit PCM WAV whose length is not known yet: RIFF and data sizes 0xFFFFFFFF, the
    /// convention of streamed WAVs (OpenAI's, ffmpeg's on a pipe) that readers, libsndfile included, take as
    /// "up to the end of the data".
    public static func streamingWAVHeader(sampleRate: Int, channels: Int = 1) -> Data {
        var header = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); u32(.max)
        header.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16)
        u16(1); u16(UInt16(channels)); u32(UInt32(sampleRate)); u32(UInt32(sampleRate * channels * 2))
        u16(UInt16(channels * 2)); u16(16)
        header.append(contentsOf: Array("data".utf8)); u32(.max)
        return header
    }
}

/// The bytes libsndfile writes, in memory. Bytes handed on by `take()` are gone: a write or seek back into them
/// (which only a whole-file format does, at close) is recorded as a failure.
private final class MemoryFile {
    /// Bytes from offset `base` on.
    var bytes = [UInt8]()
    var base = 0
    var position = 0
    var failure: String?

    var length: Int { base + bytes.count }

    func take() -> Data {
        let out = Data(bytes)
        base += bytes.count
        bytes.removeAll(keepingCapacity: true)
        return out
    }

    func write(_ source: UnsafeRawPointer, _ count: Int) -> Int {
        guard position >= base else {
            failure = "libsndfile rewrote byte \(position), already sent"
            return 0
        }
        let offset = position - base
        if offset > bytes.count { bytes.append(contentsOf: repeatElement(0, count: offset - bytes.count)) }
        let source = UnsafeRawBufferPointer(start: source, count: count)
        let overlap = min(count, bytes.count - offset)
        if overlap > 0 { bytes.replaceSubrange(offset..<offset + overlap, with: source[0..<overlap]) }
        if overlap < count { bytes.append(contentsOf: source[overlap...]) }
        position += count
        return count
    }

    func read(_ target: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard position >= base else { return 0 }
        let offset = position - base, n = max(0, min(count, bytes.count - offset))
        bytes.withUnsafeBytes { target.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        position += n
        return n
    }

    func seek(_ offset: Int, _ whence: Int32) -> Int {
        switch whence {
        case SEEK_SET: position = offset
        case SEEK_CUR: position += offset
        default: position = length + offset
        }
        return position
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemoryFile {
        Unmanaged<MemoryFile>.fromOpaque(user!).takeUnretainedValue()
    }

    static let virtualIO = SF_VIRTUAL_IO(
        get_filelen: { user in sf_count_t(MemoryFile.from(user).length) },
        seek: { offset, whence, user in sf_count_t(MemoryFile.from(user).seek(Int(offset), whence)) },
        read: { target, count, user in sf_count_t(MemoryFile.from(user).read(target!, Int(count))) },
        write: { source, count, user in sf_count_t(MemoryFile.from(user).write(source!, Int(count))) },
        tell: { user in sf_count_t(MemoryFile.from(user).position) })
}
