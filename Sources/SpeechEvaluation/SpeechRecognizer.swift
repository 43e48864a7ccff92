/// What speech evaluation needs from an ASR model: greedy transcripts of clips, in order. `Whisper.WhisperTranscriber`
/// is one; tests use scripted ones.
public protocol SpeechRecognizer: AnyObject {
    /// One transcript per clip (mono samples at `sampleRate`); `language` is the dataset's language folder name
    /// (e.g. "en"), nil to let the model detect it.
    func transcribe(_ clips: [[Float]], sampleRate: Int, language: String?) throws -> [String]
    /// Bytes held by the model's weights.
    var parameterBytes: Int { get }
}
