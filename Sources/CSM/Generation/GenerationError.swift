/// Errors of generation; each names the file or argument at fault and what to do about it.
public enum GenerationError: Error, CustomStringConvertible {
    /// The prompt plus the frames to generate do not fit the backbone's position range.
    case promptTooLong(prompt: Int, frames: Int, limit: Int)
    /// A context folder (`--gen_from` / `--context`) is not in the expected layout.
    case badContextFolder(String)
    /// A setting (temperature, top-k, speaker, length) is out of range.
    case invalidSetting(String)

    public var description: String {
        switch self {
        case let .promptTooLong(prompt, frames, limit):
            return "the prompt takes \(prompt) positions and up to \(frames) frames are to be generated: "
                + "\(prompt + frames) > \(limit) positions the model supports (max_position_embeddings). "
                + "Use fewer or shorter context turns, or lower --max_audio_seconds."
        case let .badContextFolder(m): return m
        case let .invalidSetting(m): return m
        }
    }
}
