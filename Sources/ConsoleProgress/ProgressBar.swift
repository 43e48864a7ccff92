import Foundation

/// How progress shows on stderr.
public enum ProgressStyle: Sendable {
    /// A bar redrawn in place when stderr is a terminal, plain lines otherwise (a log or CI cannot take `\r`).
    case automatic
    case bar
    case lines
    case silent
}

/// One task's progress: on a terminal `title [████····] text` redrawn in place, otherwise plain lines, or nothing.
/// Callers decide what the text says; this decides where and how often it appears.
public final class ProgressBar {
    public enum Mode: Sendable { case bar, lines, silent }

    public let mode: Mode
    public let started = Date()
    private let title: String?
    private let redrawEvery: TimeInterval
    private let lineEvery: TimeInterval
    private let log: (String) -> Void
    private var lastRedraw: Date
    private var lastLine: Date

    /// `redrawEvery`/`lineEvery`: the least seconds between two redraws/lines (0: every update). `log` takes the
    /// plain lines (default: stderr).
    public init(style: ProgressStyle, title: String? = nil, redrawEvery: TimeInterval = 0, lineEvery: TimeInterval = 0,
                log: ((String) -> Void)? = nil) {
        switch style {
        case .automatic: mode = isatty(STDERR_FILENO) == 1 ? .bar : .lines
        case .bar: mode = .bar
        case .lines: mode = .lines
        case .silent: mode = .silent
        }
        // Long titles (hub file paths) keep their end, which names the file.
        self.title = title.map { $0.count > 40 ? "…" + $0.suffix(39) : $0 }
        self.redrawEvery = redrawEvery
        self.lineEvery = lineEvery
        self.log = log ?? { ProgressBar.write($0 + "\n") }
        lastRedraw = started
        lastLine = started
    }

    public var elapsed: TimeInterval { Date().timeIntervalSince(started) }

    /// Reports progress: on a terminal redraws the bar at `fraction` (none when nil) with `text`; otherwise writes
    /// `line` (when not nil). `now` skips the interval (a first report, a restart).
    public func update(fraction: Double?, text: @autoclosure () -> String, line: @autoclosure () -> String?,
                       now: Bool = false) {
        let time = Date()
        switch mode {
        case .bar:
            guard now || time.timeIntervalSince(lastRedraw) >= redrawEvery else { return }
            lastRedraw = time
            let parts = [title, fraction.map { "[\(ProgressBar.bar($0))]" }, text()].compactMap { $0 }
            ProgressBar.write("\r\u{1B}[2K" + parts.joined(separator: " "))
        case .lines:
            guard now || time.timeIntervalSince(lastLine) >= lineEvery, let line = line() else { return }
            lastLine = time
            log(line)
        case .silent: break
        }
    }

    /// A line that is not progress (an event worth its own line): on a terminal written above the bar, which the
    /// next `update` redraws; otherwise a plain line; nothing when silent.
    public func note(_ line: String) {
        switch mode {
        case .bar: ProgressBar.write("\r\u{1B}[2K" + line + "\n")
        case .lines: log(line)
        case .silent: break
        }
    }

    /// Ends the display: on a terminal `summary` replaces the bar (without one the bar stays); otherwise `summary`
    /// is the last line.
    public func finish(_ summary: String? = nil) {
        switch mode {
        case .bar: ProgressBar.write(summary.map { "\r\u{1B}[2K\($0)\n" } ?? "\n")
        case .lines: if let summary { log(summary) }
        case .silent: break
        }
    }

    /// 24 cells, filled in proportion to `fraction` (clamped to 0...1).
    public static func bar(_ fraction: Double, width: Int = 24) -> String {
        let filled = fraction.isFinite ? Int(Double(width) * min(1, max(0, fraction))) : 0
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    /// `4:05`, `1:02:03`; `?` when unknown (no rate yet).
    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
            : String(format: "%d:%02d", s / 60, s % 60)
    }

    /// Decimal units as the hub and `du --si` show sizes: `999 B`, `1.5 kB`, `2.0 GB`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
