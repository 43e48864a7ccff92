import Foundation

/// A conversation folder in the `--gen_from` layout: `segments/script.txt` with one `[K]: text` line per turn
/// (K 1-based, blank lines skipped) and `segments/segment_NNNN_speakerK.wav` for line NNNN. All lines but the
/// last are context (their audio is required); the last line is the one to speak (its audio, if any, unused).
public struct ContextFolder: Sendable {
    public struct Line: Equatable, Sendable {
        /// 1-based among the non-blank lines: the NNNN of its audio file.
        public var number: Int
        /// The model's speaker id: the script's `[K]` minus one (`[1]` → 0), as in preprocessing.
        public var speaker: Int
        public var text: String
        public var audio: URL?
    }

    public let folder: URL
    public let lines: [Line]
    public var context: [Line] { Array(lines.dropLast()) }
    public var target: Line { lines[lines.count - 1] }

    static let audioExtensions: Set<String> = ["wav", "flac", "ogg", "mp3"]

    public init(_ folder: URL) throws {
        self.folder = folder
        let segments = folder.appendingPathComponent("segments")
        let script = segments.appendingPathComponent("script.txt")
        guard let data = FileManager.default.contents(atPath: script.path) else {
            throw GenerationError.badContextFolder("\(script.path) is missing: a context folder holds "
                + "segments/script.txt ([K]: text per line) and segments/segment_NNNN_speakerK.wav")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw GenerationError.badContextFolder("\(script.path) is not UTF-8 text")
        }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: segments.path)) ?? []
        var lines = [Line]()
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\u{FEFF}", with: "")
            if line.isEmpty { continue }
            let number = lines.count + 1
            guard let (tag, spoken) = Self.parse(line) else {
                throw GenerationError.badContextFolder("\(script.path) line \(number): '\(line)' is not '[K]: text' "
                    + "(K = 1, 2, … the speaker)")
            }
            let audio = try Self.audio(number: number, tag: tag, files: files, in: segments)
            lines.append(Line(number: number, speaker: tag - 1, text: spoken, audio: audio))
        }
        guard !lines.isEmpty else {
            throw GenerationError.badContextFolder("\(script.path) has no lines; its last line is the text to speak")
        }
        for line in lines.dropLast() where line.audio == nil {
            throw GenerationError.badContextFolder("\(segments.path): no segment_\(String(format: "%04d", line.number))"
                + "_speaker\(line.speaker + 1).wav for context line \(line.number) ('\(line.text)'); every line but "
                + "the last needs its recording")
        }
        self.lines = lines
    }

    /// `[K]: text` with K a positive integer → (K, trimmed text); nil when malformed or the text is empty.
    static func parse(_ line: String) -> (Int, String)? {
        guard line.first == "[", let close = line.firstIndex(of: "]") else { return nil }
        guard let tag = Int(line[line.index(after: line.startIndex)..<close]), tag >= 1 else { return nil }
        let rest = line[line.index(after: close)...]
        guard rest.first == ":" else { return nil }
        let text = rest.dropFirst().trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : (tag, text)
    }

    /// The audio file of line `number`; throws when its speaker suffix contradicts the script's tag.
    static func audio(number: Int, tag: Int, files: [String], in segments: URL) throws -> URL? {
        let prefix = String(format: "segment_%04d_speaker", number)
        let matches = files.filter { name in
            let url = URL(fileURLWithPath: name)
            return name.hasPrefix(prefix) && audioExtensions.contains(url.pathExtension.lowercased())
        }.sorted()
        guard let name = matches.first else { return nil }
        let suffix = URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent.dropFirst(prefix.count)
        guard Int(suffix) == tag else {
            throw GenerationError.badContextFolder("\(segments.appendingPathComponent(name).path): the file says "
                + "speaker \(suffix) but script line \(number) says [\(tag)]; rename the file or fix the script")
        }
        return segments.appendingPathComponent(name)
    }
}
