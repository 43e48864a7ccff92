import Foundation

/// Everything that can go wrong reading, resampling or writing audio. Each message starts with the file it is about,
/// so a skip report or a crash log says which input to look at.
public enum AudioError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case fileNotFound(path: String)
    /// A directory, FIFO, device… where an audio file was expected.
    case notARegularFile(path: String, kind: String)
    /// The OS refused to open it (permissions, I/O error, a path component that is a file…).
    case unreadable(path: String, reason: String)
    /// Zero bytes, or a valid header that holds zero frames.
    case empty(path: String, detail: String)
    /// libsndfile recognises no audio format in it (text, random bytes, an unsupported container).
    case notAudio(path: String, libsndfile: String)
    /// An audio format, but its header or stream is damaged (including a zero sample rate or channel count).
    case malformed(path: String, libsndfile: String)
    case noChannels(path: String)
    /// The header promises more audio than the file holds, or decoding stopped early.
    case truncated(path: String, detail: String)
    /// Decoded samples that are NaN or ±infinity (only float formats can hold them).
    case nonFiniteSamples(path: String, count: Int, firstFrame: Int)
    case writeFailed(path: String, reason: String)
    case resampler(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "\(path): no such file"
        case .notARegularFile(let path, let kind): return "\(path): not an audio file (it is a \(kind))"
        case .unreadable(let path, let reason): return "\(path): cannot be read (\(reason))"
        case .empty(let path, let detail): return "\(path): empty audio file (\(detail))"
        case .notAudio(let path, let message): return "\(path): not an audio file (libsndfile: \(message))"
        case .malformed(let path, let message): return "\(path): damaged audio file (libsndfile: \(message))"
        case .noChannels(let path): return "\(path): audio file has zero channels"
        case .truncated(let path, let detail): return "\(path): truncated audio file (\(detail))"
        case .nonFiniteSamples(let path, let count, let frame):
            return "\(path): \(count) sample(s) are NaN or infinite (first at frame \(frame))"
        case .writeFailed(let path, let reason): return "\(path): cannot write audio (\(reason))"
        case .resampler(let message): return "resampler: \(message)"
        case .invalidArgument(let message): return message
        }
    }

    public var errorDescription: String? { description }
}
