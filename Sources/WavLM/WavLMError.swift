/// What can go wrong between a model folder, the clips and x-vectors.
public enum WavLMError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case cannotLoad(String)
    case badInput(String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): return "WavLM config: \(why)"
        case .cannotLoad(let why): return "WavLM speaker model: \(why)"
        case .badInput(let why): return "WavLM input: \(why)"
        }
    }
}
