import ConsoleProgress
import Foundation

/// What a preprocessing run shows: conversations and segments done, audio hours, audio seconds per second and ETA;
/// on a bar, or one plain line per conversation (logs, CI).
final class PreprocessProgress {
    private let bar: ProgressBar
    private let total: Int
    private var done = 0
    /// Conversations processed in this run (resumed ones are instant and would skew the ETA).
    private var worked = 0
    private var segments = 0
    private var audioSeconds = 0.0
    private var workSeconds = 0.0
    private var workAudio = 0.0

    init(style: ProgressStyle, conversations: Int) {
        bar = ProgressBar(style: style, title: "preprocess")
        total = conversations
        bar.update(fraction: fraction, text: barText, line: nil, now: true)
    }

    /// One conversation finished (`resumed`: taken from an earlier run).
    func conversation(_ id: String, kept: Int, skipped: Int, audio: Double, seconds: Double, resumed: Bool) {
        done += 1
        segments += kept
        audioSeconds += audio
        if !resumed {
            worked += 1
            workSeconds += seconds
            workAudio += audio
        }
        let what = resumed ? "done in an earlier run" : "\(kept) segments kept, \(skipped) skipped"
        bar.update(fraction: fraction, text: barText, line: "[\(done)/\(total)] \(id): \(what) · \(stats)")
    }

    func finish() { bar.finish() }

    private var fraction: Double { total > 0 ? Double(done) / Double(total) : 1 }
    private var barText: String { "\(done)/\(total) conversations · \(stats)" }

    private var stats: String {
        let rate = workSeconds > 0 ? workAudio / workSeconds : 0
        let eta = worked > 0 ? PreprocessProgress.clock(workSeconds / Double(worked) * Double(total - done)) : "?"
        return "\(segments) segments · " + String(format: "%.2f h audio · %.1f s audio/s", audioSeconds / 3600, rate)
            + " · ETA \(eta)"
    }

    /// `1h02m03s`, `4m05s`, `12s` (also the report's "processed in").
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
