/// What can go wrong between a user's input and Mimi codes or audio.
public enum MimiError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case badInput(String)
    case cannotLoad(String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): return "Mimi config: \(why)"
        case .badInput(let why): return "Mimi input: \(why)"
        case .cannotLoad(let why): return "Mimi model: \(why)"
        }
    }
}
