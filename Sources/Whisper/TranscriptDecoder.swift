import Foundation
import Tokenizer

/// Token ids → text as `WhisperTokenizer.decode(ids, skip_special_tokens=True)`: a leading `<|startofprev|>`
/// prompt is dropped up to `<|startoftranscript|>`, byte-level BPE decoding skips the tokens tokenizer.json marks
/// special, and timestamp tokens (`<|1.23|>`, added but not special) are removed from the text.
public struct TranscriptDecoder: Sendable {
    public let tokenizer: Tokenizer
    let startOfPrevious: Int?
    let startOfTranscript: Int?
    private static let timestamp = try! NSRegularExpression(pattern: #"<\|(\d+\.\d+)\|>"#)

    public init(folder: URL) throws {
        do {
            tokenizer = try Tokenizer(folder: folder)
        } catch {
            throw WhisperError.cannotLoad("\(folder.appendingPathComponent("tokenizer.json").path): \(error)")
        }
        startOfPrevious = tokenizer.tokenToId("<|startofprev|>")
        startOfTranscript = tokenizer.tokenToId("<|startoftranscript|>")
    }

    public func decode(_ ids: [Int]) -> String {
        var ids = ids
        if let previous = startOfPrevious, ids.first == previous {
            // WhisperTokenizer._strip_prompt: keep from <|startoftranscript|> on, or nothing.
            if let start = startOfTranscript, let i = ids.firstIndex(of: start) { ids = Array(ids[i...]) } else { ids = [] }
        }
        let text = tokenizer.decode(ids, skipSpecialTokens: true)
        let all = NSRange(text.startIndex..., in: text)
        return Self.timestamp.stringByReplacingMatches(in: text, range: all, withTemplate: "")
    }
}
