import Foundation

/// The training progress line: step, loss, lr, tokens/s, s/step, ETA and memory. Redrawn in place
/// on a terminal; on a pipe or file, one plain line per step (so logs stay readable).
final class TrainingProgress {
    private let total: Int
    private let log: (String) -> Void
    private let started = Date()
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var firstStep: Int?

    init(total: Int, log: @escaping (String) -> Void) {
        self.total = total
        self.log = log
    }

    func update(step: Int, row: [String: Any]) {
        let first = firstStep ?? step - 1
        firstStep = first
        let elapsed = Date().timeIntervalSince(started)
        let perStep = elapsed / Double(max(step - first, 1))
        let eta = perStep * Double(total - step)
        func f(_ key: String, _ format: String) -> String {
            (row[key] as? Double).map { String(format: format, $0) } ?? "-"
        }
        var text = "step \(step)/\(total) loss \(f("loss", "%.4f")) (bb \(f("backbone_loss", "%.3f")) dd \(f("depth_loss", "%.3f")))"
            + " lr \(f("lr", "%.2e")) \(f("tokens_per_s", "%.0f")) tok/s \(f("s_per_step", "%.2f")) s/step"
            + " ETA \(Self.duration(eta)) mem \(f("peak_memory_mb", "%.0f")) MB"
        if let v = row["val_loss"] as? Double { text += String(format: " val %.4f", v) }
        if isTerminal {
            let width = 24, done = Int(Double(width) * Double(step) / Double(max(total, 1)))
            let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
            FileHandle.standardError.write(Data("\r\u{1B}[2K[\(bar)] \(text)".utf8))
        } else {
            log("[train] \(text)")
        }
    }

    func finish() {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
