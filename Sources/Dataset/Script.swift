import Foundation

/// One non-blank line of a `vibevoice-podcast-script.txt`.
public struct ScriptLine: Equatable, Sendable {
    public enum Content: Equatable, Sendable {
        /// `[tag]: text`, text trimmed of surrounding whitespace; `tag` is 1-based.
        case turn(tag: Int, text: String)
        case malformed(String)
        case notUTF8
    }

    /// 1-based among the non-blank lines: the number of the wav it pairs with.
    public let number: Int
    public let content: Content
}

/// Parses the script format of the seed: one `[K]: text` line per segment, blank lines skipped.
/// Decoding is per line, so one line of bad bytes costs its segment only, not the conversation.
public enum Script {
    public static func parse(_ data: Data) -> [ScriptLine] {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // UTF-8 byte-order mark
        var lines: [ScriptLine] = []
        for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            guard let text = String(validating: raw, as: UTF8.self) else {
                lines.append(ScriptLine(number: lines.count + 1, content: .notUTF8))
                continue
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { continue }
            lines.append(ScriptLine(number: lines.count + 1, content: parseTurn(trimmed)))
        }
        return lines
    }

    /// `[K]: text` with K a positive integer; anything else is malformed.
    static func parseTurn(_ line: String) -> ScriptLine.Content {
        guard line.first == "[", let close = line.firstIndex(of: "]") else { return .malformed(line) }
        let digits = line[line.index(after: line.startIndex) ..< close]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let tag = Int(digits), tag >= 1 else {
            return .malformed(line)
        }
        let rest = line[line.index(after: close)...]
        guard rest.first == ":" else { return .malformed(line) }
        return .turn(tag: tag, text: rest.dropFirst().trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
