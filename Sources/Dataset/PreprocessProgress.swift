import Foundation

/// Progress of a preprocessing run: a redrawn bar on a terminal (conversations, segments, audio hours,
/// audio seconds per second, ETA), one plain line per conversation otherwise (logs, CI), or nothing.
public final class PreprocessProgress {
    public enum Style { case auto, bar, lines, silent }

    private let style: Style
    private let total: Int
    private var done = 0
    /// Conversations processed in this run (resumed ones are instant and would skew the ETA).
    private var worked = 0
    private var segments = 0
    private var audioSeconds = 0.0
    private let start = Date()
    private var workSeconds = 0.0
    private var workAudio = 0.0

    public init(style: Style = .auto, conversations: Int) {
        self.style = style == .auto ? (isatty(STDERR_FILENO) != 0 ? .bar : .lines) : style
        total = conversations
        if self.style == .bar { draw() }
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
        switch style {
        case .bar: draw()
        case .lines:
            let what = resumed ? "done in an earlier run" : "\(kept) segments kept, \(skipped) skipped"
            log("[\(done)/\(total)] \(id): \(what) · \(stats)")
        case .silent, .auto: break
        }
    }

    func finish() {
        if style == .bar { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    private var stats: String {
        let rate = workSeconds > 0 ? workAudio / workSeconds : 0
        let eta = worked > 0 ? PreprocessProgress.clock(workSeconds / Double(worked) * Double(total - done)) : "?"
        return "\(segments) segments · " + String(format: "%.2f h audio · %.1f s audio/s", audioSeconds / 3600, rate)
            + " · ETA \(eta)"
    }

    private func draw() {
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let line = "\r\u{1B}[2Kpreprocess \(bar) \(done)/\(total) conversations · \(stats)"
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }

    private func log(_ line: String) {
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
    }

    /// `1h02m03s`, `4m05s`, `12s`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
