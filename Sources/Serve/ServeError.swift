/// Errors of setting a server up (voices, model, address); each names the file or flag at fault and the fix.
public enum ServeError: Error, CustomStringConvertible {
    case badVoices(String)
    case badSetting(String)

    public var description: String {
        switch self {
        case .badVoices(let m): return "voices: \(m)"
        case .badSetting(let m): return m
        }
    }
}
