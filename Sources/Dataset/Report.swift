import Foundation

/// `report.json` and the end-of-run summary: what was written, and every skip with its reason.
public struct Report: Codable, Equatable, Sendable {
    public var conversationsFound: Int
    public var conversationsWritten: Int
    public var segmentsKept: Int
    public var samples: Int
    public var audioSeconds: Double
    /// Skip count per reason code (conversation- and segment-level together).
    public var skipsByReason: [String: Int]
    public var skips: [Skip]

    enum CodingKeys: String, CodingKey {
        case conversationsFound = "conversations_found", conversationsWritten = "conversations_written"
        case segmentsKept = "segments_kept", samples, audioSeconds = "audio_seconds"
        case skipsByReason = "skips_by_reason", skips
    }

    init(found: Int, records: [ConversationRecord], scanSkips: [Skip], samples: Int) {
        conversationsFound = found
        conversationsWritten = records.filter { $0.shard != nil }.count
        segmentsKept = records.reduce(0) { $0 + $1.segments.count }
        self.samples = samples
        audioSeconds = records.reduce(0) { $0 + $1.segments.reduce(0) { $0 + $1.duration } }
        skips = scanSkips + records.flatMap(\.skips)
        skipsByReason = skips.reduce(into: [:]) { $0[$1.code, default: 0] += 1 }
    }

    public var conversationsSkipped: Int { skips.filter { $0.segment == nil }.count }
    public var segmentsSkipped: Int { skips.filter { $0.segment != nil }.count }

    /// The end-of-run summary, a few lines.
    public func summary(output: String, contextTurns: Int, seconds: Double) -> String {
        let reasons = skipsByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        var lines = [
            "Preprocessed \(conversationsWritten) of \(conversationsFound) conversations → \(output)",
            "  segments: \(segmentsKept) kept, \(segmentsSkipped) skipped; conversations skipped: \(conversationsSkipped)",
            "  samples: \(samples) (up to \(contextTurns) context turns each)",
            String(format: "  audio: %.2f h kept", audioSeconds / 3600) + ", processed in \(PreprocessProgress.clock(seconds))",
        ]
        if !skips.isEmpty {
            lines.append("  skips by reason: \(reasons)")
            for skip in skips.prefix(10) { lines.append("    \(skip.line)") }
            if skips.count > 10 { lines.append("    … \(skips.count - 10) more") }
            lines.append("  every skip with its reason: \(output)/report.json")
        }
        return lines.joined(separator: "\n")
    }
}
