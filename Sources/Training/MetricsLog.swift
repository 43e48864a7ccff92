import Foundation

/// `metrics.jsonl`: one JSON object per logged step, appended and flushed as it happens, so a
/// crash loses nothing already logged. On resume, rows past the checkpoint's step are dropped.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    public init(url: URL, truncateAfterStep: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if let step = truncateAfterStep, let text = try? String(contentsOf: url, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let s = obj["step"] as? Int else { return false }
                return s <= step
            }
            try writeAtomicallyText(kept.map { $0 + "\n" }.joined(), to: url)
        } else if truncateAfterStep == nil || !fm.fileExists(atPath: url.path) {
            try writeAtomicallyText("", to: url)
        }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    public func append(_ row: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
        data.append(0x0A)
        try handle.write(contentsOf: data)
    }

    /// Every row of a metrics file (the HTML report and tests read it back).
    public static func read(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

func writeAtomicallyText(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url, options: .atomic)
}
