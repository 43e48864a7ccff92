/// Errors of generation; each names the file or argument at fault and what to do about it.
public enum GenerationError: Error, CustomStringConvertible {
    /// The prompt plus the frames to generate do not fit the backbone's position range.
    case promptTooLong(prompt: Int, frames: Int, limit: Int)
    /// A `BatchGenerator` row holds fewer positions than the prompt plus the frames to generate need.
    case exceedsBatchPositions(prompt: Int, frames: Int, capacity: Int)
    /// Every row of a `BatchGenerator` is generating.
    case batchFull(rows: Int)
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
        case let .exceedsBatchPositions(prompt, frames, capacity):
            return "the prompt takes \(prompt) positions and up to \(frames) frames are to be generated: "
                + "\(prompt + frames - 1) > \(capacity) positions a row of this batch holds (BatchGenerator maxPositions). "
                + "Use a shorter prompt or fewer frames, or create the batch with more maxPositions."
        case let .batchFull(rows):
            return "all \(rows) rows of the batch are generating: step() until a row's last frame frees one, "
                + "cancel one, or create the batch with more maxRows"
        case let .badContextFolder(m): return m
        case let .invalidSetting(m): return m
        }
    }
}
