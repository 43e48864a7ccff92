/// What can go wrong between a Whisper folder, audio and text. Each case names the file or input and the fix.
public enum WhisperError: Error, CustomStringConvertible, Equatable {
    case cannotLoad(String)
    case invalidConfig(String)
    case badInput(String)

    public var description: String {
        switch self {
        case .cannotLoad(let why): return "Whisper model: \(why)"
        case .invalidConfig(let why): return "Whisper config: \(why)"
        case .badInput(let why): return "Whisper input: \(why)"
        }
    }
}
