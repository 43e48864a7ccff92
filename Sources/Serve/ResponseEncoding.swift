import Audio
import Foundation

/// A request's audio as the bytes of its response body. `wav` and `pcm` stream: a WAV header whose sizes say
/// "until the end" (then 16-bit samples) and headerless s16le 24 kHz samples (OpenAI's `pcm`), each chunk sent as
/// it is decoded. `flac` is sent once the audio is complete: FLAC's header holds the length and a checksum of
/// the whole, which libsndfile writes at the end.
///
/// Samples become 16-bit exactly as `csm generate` writes them (libsndfile, clipped), so the payload of a
/// streamed response equals `csm generate --stream --chunk_frames N` with the same seed.
final class ResponseEncoding {
    let format: SpeechRequest.Format
    private let encoder: MemoryAudioEncoder
    let sampleRate: Int

    init(_ format: SpeechRequest.Format, sampleRate: Int) throws {
        self.format = format
        self.sampleRate = sampleRate
        encoder = try MemoryAudioEncoder(format == .flac ? .flac : .rawPCM16, sampleRate: sampleRate)
    }

    /// Whether bytes leave as audio is made (false: all at the end).
    var streams: Bool { format != .flac }

    var contentType: String {
        switch format {
        case .wav: return "audio/wav"
        case .pcm: return "audio/pcm"
        case .flac: return "audio/flac"
        }
    }

    /// What precedes the first samples.
    func start() -> Data {
        format == .wav ? MemoryAudioEncoder.streamingWAVHeader(sampleRate: sampleRate) : Data()
    }

    /// The bytes of one chunk of samples (none for FLAC until `end()`).
    func chunk(_ samples: [Float]) throws -> Data {
        try encoder.append(samples)
        return streams ? encoder.takeBytes() : Data()  // a FLAC file's header is rewritten at the end
    }

    /// What remains once the audio is complete (all of a FLAC file).
    func end() throws -> Data { try encoder.finish() }
}

/// OpenAI's `stream_format: "sse"` framing: `speech.audio.delta` events carrying base64 audio bytes (those the
/// plain response would carry, in order), then one `speech.audio.done` with token usage (input: the prompt's
/// positions, text and voice context; output: audio frames).
enum ServerSentEvents {
    static let contentType = "text/event-stream"

    static func delta(_ bytes: Data) -> Data {
        event("{\"type\":\"speech.audio.delta\",\"audio\":\"\(bytes.base64EncodedString())\"}")
    }

    static func done(promptTokens: Int, frames: Int) -> Data {
        event("{\"type\":\"speech.audio.done\",\"usage\":{\"input_tokens\":\(promptTokens),"
              + "\"output_tokens\":\(frames),\"total_tokens\":\(promptTokens + frames)}}")
    }

    private static func event(_ json: String) -> Data { Data("data: \(json)\n\n".utf8) }
}
