/// Errors of the CSM model code; each message names what is wrong and, where it helps, the fix.
public enum CSMError: Error, CustomStringConvertible {
    case invalidConfig(String)
    case invalidSample(String)
    case invalidAdapter(String)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "config.json: \(m)"
        case .invalidSample(let m): return "invalid sample: \(m)"
        case .invalidAdapter(let m): return "adapter: \(m)"
        }
    }
}
