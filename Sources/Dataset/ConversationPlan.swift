import Foundation

/// One segment ready to load: script line `number` paired with wav number `number`.
public struct SegmentSource: Equatable, Sendable {
    public let number: Int
    public let wav: URL
    /// 0-based (`[K]` → K-1), as the CSM chat template's role.
    public let speaker: Int
    public let text: String
    public var file: String { wav.lastPathComponent }
}

/// What a conversation folder holds once its script and wavs are paired: the usable segments plus the
/// segment-level skips, or a reason to skip it whole.
public struct ConversationPlan: Equatable, Sendable {
    public var segments: [SegmentSource] = []
    public var skips: [Skip] = []
    /// Set when nothing of the conversation can be used.
    public var skipped: SkipReason?
    /// Identifies the folder's contents (file names and sizes, script bytes), so a resumed run redoes a
    /// conversation whose files changed.
    public var signature = ""

    /// A wav named as the seed names them: `NNN_speakerK.wav`.
    static func parseWavName(_ name: String) -> (number: Int, speaker: Int)? {
        guard name.lowercased().hasSuffix(".wav") else { return nil }
        let stem = name.dropLast(4)
        let parts = stem.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].hasPrefix("speaker"),
              !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[0]) else { return nil }
        let k = parts[1].dropFirst("speaker".count)
        guard !k.isEmpty, k.allSatisfy({ $0.isASCII && $0.isNumber }), let speaker = Int(k) else { return nil }
        return (n, speaker)
    }

    public static func make(_ conversation: ConversationSource) -> ConversationPlan {
        var plan = ConversationPlan()
        let id = conversation.id
        let folder = conversation.segmentsFolder
        guard Scanner.isDirectory(folder) else {
            plan.skipped = .noSegmentsFolder
            return plan
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        } catch {
            plan.skipped = .unreadable("segments/: \(Scanner.reason(error))")
            return plan
        }
        var signature = SHA256()
        var wavs: [Int: [(name: String, speaker: Int)]] = [:]
        for name in names where !name.hasPrefix(".") && name != Scanner.scriptName {
            let size = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size]
                as? Int) ?? -1
            signature.update("\(name)\t\(size)\n")
            if let (n, speaker) = parseWavName(name) {
                wavs[n, default: []].append((name, speaker))
            } else if name.lowercased().hasSuffix(".wav") {
                plan.skips.append(Skip(conversation: id, segment: name, .unrecognizedFile))
            }
        }
        let scriptURL = folder.appendingPathComponent(Scanner.scriptName)
        let hasScript = FileManager.default.fileExists(atPath: scriptURL.path)
        var scriptData = Data()
        var scriptError: String?
        if hasScript {
            do { scriptData = try Data(contentsOf: scriptURL) } catch { scriptError = Scanner.reason(error) }
            signature.update([UInt8](scriptData))
        }
        plan.signature = signature.finalize()
        guard hasScript else {
            plan.skipped = wavs.isEmpty ? .emptyConversation : .missingScript
            return plan
        }
        if let scriptError {
            plan.skipped = .unreadable("\(Scanner.scriptName): \(scriptError)")
            return plan
        }

        let lines = Script.parse(scriptData)
        let wavCount = wavs.values.reduce(0) { $0 + $1.count }
        if lines.isEmpty && wavCount == 0 { plan.skipped = .emptyConversation; return plan }
        if let (n, files) = wavs.first(where: { $0.value.count > 1 }).map({ ($0.key, $0.value.map(\.name)) }) {
            plan.skipped = .duplicateWavNumber(n, files)
            return plan
        }
        guard lines.count == wavCount else {
            plan.skipped = .countMismatch(lines: lines.count, wavs: wavCount)
            return plan
        }
        let outside = wavs.keys.filter { $0 < 1 || $0 > lines.count }.sorted()
        guard outside.isEmpty else {
            plan.skipped = .wavNumbersOutOfRange(found: outside, lines: lines.count)
            return plan
        }
        for line in lines {
            let wav = wavs[line.number]![0]
            switch line.content {
            case .notUTF8:
                plan.skips.append(Skip(conversation: id, segment: wav.name, .notUTF8(line: line.number)))
            case .malformed(let text):
                plan.skips.append(Skip(conversation: id, segment: wav.name, .malformedLine(line: line.number, text: text)))
            case .turn(let tag, let text):
                if tag != wav.speaker {
                    plan.skips.append(Skip(conversation: id, segment: wav.name, .speakerMismatch(tag: tag, suffix: wav.speaker)))
                } else if text.isEmpty {
                    plan.skips.append(Skip(conversation: id, segment: wav.name, .emptyText))
                } else {
                    plan.segments.append(SegmentSource(number: line.number, wav: folder.appendingPathComponent(wav.name),
                                                       speaker: tag - 1, text: text))
                }
            }
        }
        return plan
    }
}
