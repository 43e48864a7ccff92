import CAudio
import Foundation

/// An open libsndfile reader. Internal: the public surface is `AudioFile`.
///
/// We open the descriptor ourselves so that "missing", "a directory" and "permission denied" come from errno with
/// their own messages, and libsndfile only has to judge the bytes.
final class SoundFile {
    let path: String
    let info: AudioInfo
    private let handle: OpaquePointer
    private static let openLock = NSLock()

    init(readingFrom url: URL) throws {
        let path = url.path
        self.path = path
        // O_NONBLOCK: opening a FIFO must not hang waiting for a writer; it is rejected below anyway.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw AudioError.fileNotFound(path: path) }
            throw AudioError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        // Ours to close until libsndfile takes it (a class whose init throws gets no deinit).
        var ownDescriptor = true
        defer { if ownDescriptor { close(fd) } }

        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw AudioError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw AudioError.notARegularFile(path: path, kind: Self.kind(of: status.st_mode))
        }
        guard status.st_size > 0 else { throw AudioError.empty(path: path, detail: "0 bytes") }

        var sfInfo = SF_INFO()
        // From here libsndfile owns the descriptor (close_desc 1): it closes it in sf_close, and 1.2.0 also closes
        // it when the open fails even if told not to, so closing it ourselves after a failed open closed whatever
        // another thread had opened under the same number meanwhile (seen as "Bad file descriptor" in parallel tests).
        // Opens are serialized with the read of the failure's reason, which libsndfile keeps in a process-wide slot.
        ownDescriptor = false
        let opened = Self.openLock.withLock { () -> Result<OpaquePointer, AudioError> in
            if let sndfile = sf_open_fd(fd, Int32(SFM_READ), &sfInfo, 1) { return .success(sndfile) }
            return .failure(Self.openError(path: path, code: sf_error(nil), message: String(cString: sf_strerror(nil))))
        }
        let sndfile = try opened.get()
        var initialized = false
        defer { if !initialized { sf_close(sndfile) } }
        guard sfInfo.channels > 0 else { throw AudioError.noChannels(path: path) }
        guard sfInfo.samplerate > 0 else {
            throw AudioError.malformed(path: path, libsndfile: "sample rate \(sfInfo.samplerate)")
        }
        if let overrun = Self.declaredDataOverrun(log: Self.log(of: sndfile)) {
            throw AudioError.truncated(
                path: path,
                detail: "header declares \(overrun.declared) bytes of audio, only \(overrun.present) present")
        }

        handle = sndfile
        info = AudioInfo(sampleRate: Int(sfInfo.samplerate), channels: Int(sfInfo.channels),
                         frames: Int(sfInfo.frames), format: AudioFormat(rawValue: sfInfo.format))
        initialized = true
    }

    deinit {
        sf_close(handle)
    }

    /// Decodes every frame as interleaved float in [-1, 1] (integer formats are scaled by libsndfile).
    func readAll() throws -> [Float] {
        let channels = info.channels
        let block = 1 << 16
        var samples: [Float] = []
        // The header's frame count is a hint, not a promise (damaged files lie); cap the up-front reservation.
        samples.reserveCapacity(min(info.frames, 1 << 24) * channels)
        var buffer = [Float](repeating: 0, count: block * channels)
        while true {
            let got = buffer.withUnsafeMutableBufferPointer { sf_readf_float(handle, $0.baseAddress, sf_count_t(block)) }
            guard got > 0 else { break }
            samples.append(contentsOf: buffer[0 ..< Int(got) * channels])
        }
        let decoded = samples.count / channels
        let status = sf_error(handle)
        if decoded < info.frames {
            let why = status == 0 ? "" : " (libsndfile: \(String(cString: sf_strerror(handle))))"
            throw AudioError.truncated(path: path, detail: "decoded \(decoded) of the \(info.frames) frames its header declares\(why)")
        }
        if status != 0 {
            throw AudioError.malformed(path: path, libsndfile: String(cString: sf_strerror(handle)))
        }
        return samples
    }

    /// libsndfile's parse log: where it notes header fields that disagree with the file.
    private static func log(of sndfile: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        sf_command(sndfile, Int32(SFC_GET_LOG_INFO), &buffer, Int32(buffer.count))
        return String(cString: buffer)
    }

    /// libsndfile silently shortens a WAV/AIFF whose data chunk claims more bytes than the file holds, logging
    /// `data : 2600 (should be 1600)`. That is a truncated file (an interrupted copy or download), so we refuse it.
    /// Streaming writers leave the size as 0xFFFFFFFF (or 0x7FFFFFFF) because they cannot seek back: those are fine.
    static func declaredDataOverrun(log: String) -> (declared: UInt64, present: UInt64)? {
        for line in log.split(separator: "\n") {
            let fields = line.split(whereSeparator: { " :()".contains($0) })
            // ["data", "2600", "should", "be", "1600"]
            guard fields.count >= 5, fields[0] == "data" || fields[0] == "SSND",
                  fields[2] == "should", fields[3] == "be",
                  let declared = UInt64(fields[1]), let present = UInt64(fields[4]),
                  declared > present, declared != 0xFFFF_FFFF, declared != 0x7FFF_FFFF else { continue }
            return (declared, present)
        }
        return nil
    }

    private static func openError(path: String, code: Int32, message: String) -> AudioError {
        switch Int(code) {
        case SF_ERR_UNRECOGNISED_FORMAT: return .notAudio(path: path, libsndfile: message)
        case SF_ERR_SYSTEM: return .unreadable(path: path, reason: message)
        default:
            // libsndfile has no public code for this one; its message is the stable part of its API.
            if message.lowercased().contains("channel count is zero") { return .noChannels(path: path) }
            return .malformed(path: path, libsndfile: message)
        }
    }

    private static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFCHR, S_IFBLK: return "device"
        case S_IFSOCK: return "socket"
        default: return "special file"
        }
    }
}
