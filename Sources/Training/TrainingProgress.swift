import ConsoleProgress
import Foundation

/// The training progress line: step, loss, lr, tokens/s, s/step, ETA and memory. On a terminal a bar redrawn
/// each step; on a pipe or file one plain `[train]` line per step through `log` (so logs stay readable).
final class TrainingProgress {
    private let total: Int
    private let bar: ProgressBar
    /// The step the run started from (a resumed run's ETA counts only its own steps).
    private var firstStep: Int?

    init(total: Int, log: @escaping (String) -> Void) {
        self.total = total
        bar = ProgressBar(style: .automatic, log: log)
    }

    func update(step: Int, row: [String: Any]) {
        let first = firstStep ?? step - 1
        firstStep = first
        let eta = bar.elapsed / Double(max(step - first, 1)) * Double(total - step)
        func f(_ key: String, _ format: String) -> String {
            (row[key] as? Double).map { String(format: format, $0) } ?? "-"
        }
        var text = "step \(step)/\(total) loss \(f("loss", "%.4f")) (bb \(f("backbone_loss", "%.3f")) dd \(f("depth_loss", "%.3f")))"
            + " lr \(f("lr", "%.2e")) \(f("tokens_per_s", "%.0f")) tok/s \(f("s_per_step", "%.2f")) s/step"
            + " ETA \(ProgressBar.clock(eta))"
            + (row["peak_gpu_memory_mb"] != nil ? " gpu \(f("peak_gpu_memory_mb", "%.0f")) MB" : "")
            + " rss \(f("peak_rss_mb", "%.0f")) MB"
        if let v = row["val_loss"] as? Double { text += String(format: " val %.4f", v) }
        bar.update(fraction: Double(step) / Double(max(total, 1)), text: text, line: "[train] \(text)")
    }

    func finish() { bar.finish() }
}
