import Foundation

/// How downloads report progress on stderr.
public enum ProgressStyle: Sendable {
    /// A redrawn bar on a terminal, a few plain lines otherwise (logs, CI).
    case automatic
    /// Plain lines only.
    case lines
    case silent
}

/// Bytes done, size, speed and ETA of one file's download, written to stderr.
final class ProgressBar {
    private let label: String
    private var total: Int64?
    private var done: Int64
    private let redraw: Bool
    private let enabled: Bool
    private let started = Date()
    private var startBytes: Int64
    private var lastDraw = Date()

    init(label: String, total: Int64?, done: Int64, style: ProgressStyle) {
        self.label = label
        self.total = total
        self.done = done
        startBytes = done
        enabled = style != .silent
        redraw = style == .automatic && isatty(STDERR_FILENO) == 1
        guard enabled else { return }
        if redraw {
            draw()
        } else {
            let size = total.map { " (\(ProgressBar.bytes($0)))" } ?? ""
            let resume = done > 0 ? ", resuming at \(ProgressBar.bytes(done))" : ""
            ProgressBar.write("downloading \(label)\(size)\(resume)\n")
        }
    }

    /// Where a (re)started transfer stands: resumes and restarts move the count back or forth.
    func restart(at bytes: Int64, total: Int64?) {
        done = bytes
        startBytes = bytes
        if let total { self.total = total }
    }

    func advance(_ bytes: Int) {
        done += Int64(bytes)
        guard enabled else { return }
        let now = Date()
        let interval: TimeInterval = redraw ? 0.1 : 15
        guard now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        if redraw { draw() } else { ProgressBar.write("  \(label): \(summary())\n") }
    }

    func finish() {
        guard enabled else { return }
        let seconds = max(Date().timeIntervalSince(started), 1e-3)
        let line = "\(label): \(ProgressBar.bytes(done)) in \(String(format: "%.1f", seconds)) s "
            + "(\(ProgressBar.bytes(Int64(Double(done - startBytes) / seconds)))/s)"
        ProgressBar.write(redraw ? "\r\u{1B}[2K\(line)\n" : "\(line)\n")
    }

    private func summary() -> String {
        let seconds = max(Date().timeIntervalSince(started), 1e-3)
        let speed = Double(done - startBytes) / seconds
        var text = ProgressBar.bytes(done) + (total.map { " / " + ProgressBar.bytes($0) } ?? "")
        text += "  \(ProgressBar.bytes(Int64(speed)))/s"
        if let total, speed > 0, total > done {
            let eta = Int(Double(total - done) / speed)
            text += String(format: "  ETA %d:%02d", eta / 60, eta % 60)
        }
        return text
    }

    private func draw() {
        var bar = ""
        if let total, total > 0 {
            let width = 24
            let filled = Int(Double(width) * min(1, Double(done) / Double(total)))
            bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
        }
        let name = label.count > 40 ? "…" + label.suffix(39) : label
        ProgressBar.write("\r\u{1B}[2K\(name) \(bar)\(summary())")
    }

    static func bytes(_ count: Int64) -> String {
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
