import Foundation

/// Why a tokenizer could not be loaded. Every case names the file, so a user knows what to fix.
public enum TokenizerError: Error, CustomStringConvertible, LocalizedError {
    case missingFile(URL)
    case unreadable(URL, underlying: String)
    case malformedJSON(URL, underlying: String)
    case invalid(URL, String)
    case unsupported(URL, String)

    public var description: String {
        switch self {
        case .missingFile(let url):
            return "\(url.path): no such file (a Hugging Face model folder needs tokenizer.json)"
        case .unreadable(let url, let why):
            return "\(url.path): cannot read (\(why))"
        case .malformedJSON(let url, let why):
            return "\(url.path): not valid JSON (\(why))"
        case .invalid(let url, let why):
            return "\(url.path): \(why)"
        case .unsupported(let url, let what):
            return "\(url.path): unsupported \(what)"
        }
    }

    public var errorDescription: String? { description }
}
