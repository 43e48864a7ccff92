/// Why a conversation or a segment was left out. Every bad input ends up here (never a crash, never
/// silently dropped); `code` is stable for counting and for `report.json`, `description` is the one-line reason.
public enum SkipReason: Equatable, Sendable, CustomStringConvertible {
    // Conversation level.
    case noSegmentsFolder
    case missingScript
    case unreadable(String)
    case emptyConversation
    case countMismatch(lines: Int, wavs: Int)
    case duplicateWavNumber(Int, [String])
    case wavNumbersOutOfRange(found: [Int], lines: Int)
    // Segment level.
    case unrecognizedFile
    case malformedLine(line: Int, text: String)
    case notUTF8(line: Int)
    case emptyText
    case unusableText(String)
    case speakerMismatch(tag: Int, suffix: Int)
    case badAudio(String)
    case tooShort(seconds: Double, min: Double)
    case tooLong(seconds: Double, max: Double)
    case textTooLong(tokens: Int, max: Int)

    public var code: String {
        switch self {
        case .noSegmentsFolder: return "no_segments_folder"
        case .missingScript: return "missing_script"
        case .unreadable: return "unreadable"
        case .emptyConversation: return "empty_conversation"
        case .countMismatch: return "count_mismatch"
        case .duplicateWavNumber: return "duplicate_wav_number"
        case .wavNumbersOutOfRange: return "wav_numbers_out_of_range"
        case .unrecognizedFile: return "unrecognized_file"
        case .malformedLine: return "malformed_line"
        case .notUTF8: return "not_utf8"
        case .emptyText: return "empty_text"
        case .unusableText: return "unusable_text"
        case .speakerMismatch: return "speaker_mismatch"
        case .badAudio: return "bad_audio"
        case .tooShort: return "too_short"
        case .tooLong: return "too_long"
        case .textTooLong: return "text_too_long"
        }
    }

    public var description: String {
        switch self {
        case .noSegmentsFolder: return "no segments/ folder"
        case .missingScript: return "no \(Scanner.scriptName) in segments/"
        case .unreadable(let why): return "cannot be read: \(why)"
        case .emptyConversation: return "empty conversation: no script lines and no wavs"
        case .countMismatch(let lines, let wavs):
            return "the script has \(lines) line(s) but there are \(wavs) NNN_speakerK.wav file(s); they must pair one to one"
        case .duplicateWavNumber(let n, let files): return "several wavs are numbered \(n): \(files.joined(separator: ", "))"
        case .wavNumbersOutOfRange(let found, let lines):
            return "wav numbers \(found.map(String.init).joined(separator: ", ")) are outside 1...\(lines) (script line i pairs with wav number i)"
        case .unrecognizedFile: return "file name is not NNN_speakerK.wav; ignored"
        case .malformedLine(let line, let text):
            return "script line \(line) is not '[K]: text' (K ≥ 1): \(text.count > 60 ? String(text.prefix(60)) + "…" : text)"
        case .notUTF8(let line): return "script line \(line) is not valid UTF-8"
        case .emptyText: return "the script line has no text"
        case .unusableText(let why): return why
        case .speakerMismatch(let tag, let suffix): return "script tag [\(tag)] contradicts the file's speaker\(suffix) suffix"
        case .badAudio(let why): return why
        case .tooShort(let s, let min): return "audio is \(Self.seconds(s)) s, shorter than --min_audio_seconds \(min)"
        case .tooLong(let s, let max): return "audio is \(Self.seconds(s)) s, longer than --max_audio_seconds \(max)"
        case .textTooLong(let n, let max): return "text is \(n) tokens, more than --text_max_length \(max)"
        }
    }

    private static func seconds(_ s: Double) -> String { String(format: "%.3f", s) }
}

/// One entry of the skip report: what was left out (a conversation, or one of its segments) and why.
public struct Skip: Equatable, Sendable, Codable {
    /// `language/conversation`.
    public var conversation: String
    /// The segment's wav file name (or `line N` when there is no wav for it); nil for the whole conversation.
    public var segment: String?
    public var code: String
    public var reason: String

    public init(conversation: String, segment: String? = nil, _ reason: SkipReason) {
        self.conversation = conversation
        self.segment = segment
        code = reason.code
        self.reason = reason.description
    }

    /// One line for logs: `en/talk_1/003_speaker2.wav: audio is 0.120 s, shorter than …`.
    public var line: String { "\(conversation)\(segment.map { "/" + $0 } ?? ""): \(reason)" }
}
