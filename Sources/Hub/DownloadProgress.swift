import ConsoleProgress
import Foundation

/// Bytes done, size, speed and ETA of one file's download. Redraws are throttled (a chunk arrives every few ms) and
/// plain lines come every 15 s, so a log of a long download stays short.
final class DownloadProgress {
    private let label: String
    private let bar: ProgressBar
    private var total: Int64?
    private var done: Int64
    private var startBytes: Int64

    init(label: String, total: Int64?, done: Int64, style: ProgressStyle) {
        self.label = label
        self.total = total
        self.done = done
        startBytes = done
        bar = ProgressBar(style: style, title: label, redrawEvery: 0.1, lineEvery: 15)
        let size = total.map { " (\(ProgressBar.bytes($0)))" } ?? ""
        let resume = done > 0 ? ", resuming at \(ProgressBar.bytes(done))" : ""
        bar.update(fraction: fraction, text: summary(), line: "downloading \(label)\(size)\(resume)", now: true)
    }

    /// Where a (re)started transfer stands: resumes and restarts move the count back or forth.
    func restart(at bytes: Int64, total: Int64?) {
        done = bytes
        startBytes = bytes
        if let total { self.total = total }
    }

    func advance(_ bytes: Int) {
        done += Int64(bytes)
        bar.update(fraction: fraction, text: summary(), line: "  \(label): \(summary())")
    }

    func finish() {
        let seconds = max(bar.elapsed, 1e-3)
        bar.finish("\(label): \(ProgressBar.bytes(done)) in \(String(format: "%.1f", seconds)) s "
            + "(\(ProgressBar.bytes(Int64(Double(done - startBytes) / seconds)))/s)")
    }

    private var fraction: Double? { total.flatMap { $0 > 0 ? Double(done) / Double($0) : nil } }

    private func summary() -> String {
        let speed = Double(done - startBytes) / max(bar.elapsed, 1e-3)
        var text = ProgressBar.bytes(done) + (total.map { " / " + ProgressBar.bytes($0) } ?? "")
        text += "  \(ProgressBar.bytes(Int64(speed)))/s"
        if let total, speed > 0, total > done { text += "  ETA " + ProgressBar.clock(Double(total - done) / speed) }
        return text
    }
}
