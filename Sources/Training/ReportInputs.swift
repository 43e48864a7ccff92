import Dataset
import Foundation

/// `metrics.jsonl` as columns. Read leniently: the report is made after training, from whatever the
/// file holds (a crashed run's last line may be cut off, a foreign writer may put NaN), and a bad line
/// is counted, not fatal.
struct ReportMetrics {
    var rows: [[String: Any]] = []
    var unreadableLines = 0

    init(rows: [[String: Any]]) { self.rows = rows }

    init(url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
            // JSON has no NaN/Infinity; Python's json writes them bare. Read them as gaps (null).
            let fixed = line.replacingOccurrences(of: "-Infinity", with: "null")
                .replacingOccurrences(of: "Infinity", with: "null").replacingOccurrences(of: "NaN", with: "null")
            if let row = try? JSONSerialization.jsonObject(with: Data(fixed.utf8)) as? [String: Any] {
                rows.append(row)
            } else {
                unreadableLines += 1
            }
        }
    }

    static func number(_ value: Any?) -> Double? {
        switch value {
        case let n as NSNumber: return n.doubleValue
        case is NSNull: return .nan
        default: return nil
        }
    }

    /// (step, value) for every row holding `key`; a null or non-finite value is a NaN (a gap in the line).
    func points(_ key: String) -> [(x: Double, y: Double)] {
        rows.compactMap { row in
            guard let step = Self.number(row["step"]), let v = Self.number(row[key]) else { return nil }
            return (step, v)
        }
    }

    func last(_ key: String) -> Double? { points(key).last { $0.y.isFinite }?.y }
    func values(_ key: String) -> [Double] { points(key).map(\.y).filter(\.isFinite) }
    var lastStep: Int { Int(Self.number(rows.last?["step"]) ?? 0) }
}

/// A `gen_step_XXXXXX.wav` in the output folder.
struct GeneratedSample {
    var file: String
    var step: Int
    var seconds: Double?

    /// Every sample wav of the folder, by step.
    static func all(in folder: URL) -> [GeneratedSample] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name -> GeneratedSample? in
            guard name.hasPrefix("gen_step_"), name.hasSuffix(".wav"),
                  let step = Int(name.dropFirst("gen_step_".count).dropLast(".wav".count)) else { return nil }
            return GeneratedSample(file: name, step: step, seconds: wavSeconds(folder.appendingPathComponent(name)))
        }.sorted { $0.step < $1.step }
    }
}

/// Duration of a RIFF/WAVE file from its `fmt ` byte rate and `data` size; nil if it is not one.
func wavSeconds(_ url: URL) -> Double? {
    guard let data = try? Data(contentsOf: url, options: .mappedIfSafe), data.count >= 12,
          data.prefix(4) == Data("RIFF".utf8), data[8 ..< 12] == Data("WAVE".utf8) else { return nil }
    func u32(_ at: Int) -> Int { (0 ..< 4).reduce(0) { $0 | Int(data[data.startIndex + at + $1]) << (8 * $1) } }
    var at = 12, byteRate: Int?
    while at + 8 <= data.count {
        let id = String(decoding: data[at ..< at + 4], as: UTF8.self), size = u32(at + 4)
        if id == "fmt ", at + 20 <= data.count { byteRate = u32(at + 16) }
        if id == "data", let rate = byteRate, rate > 0 { return Double(min(size, data.count - at - 8)) / Double(rate) }
        at += 8 + size + (size & 1)
    }
    return nil
}

/// The `--gen_from` prompt: context lines and the line that is generated (the last one).
struct GenerationPromptText {
    var context: [String]
    var target: String

    init?(genFrom: String?) {
        guard let genFrom,
              let text = try? String(contentsOfFile: genFrom + "/segments/script.txt", encoding: .utf8) else { return nil }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let last = lines.last else { return nil }
        context = Array(lines.dropLast())
        target = Self.readable(last)
    }

    /// `[2]: Hello.` → `“Hello.” (speaker [2])`; a line in another shape stays as it is.
    static func readable(_ line: String) -> String {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
              line[line.index(after: close)...].hasPrefix(":") else { return line }
        let text = line[line.index(close, offsetBy: 2)...].trimmingCharacters(in: .whitespaces)
        return "“\(text)” (speaker \(line[...close]))"
    }
}

/// What `csm preprocess` wrote about the training set: its `report.json` (skips) and `manifest.json`
/// (kept conversations). Either may be missing (a set from elsewhere); the report then says so.
struct DatasetSummary {
    var folder: String
    var report: Report?
    var manifest: Manifest?
    var problem: String?

    init(preprocessedPath: String?) {
        folder = preprocessedPath ?? "(unknown)"
        guard let path = preprocessedPath else { problem = "the run's --preprocessed_path is unknown"; return }
        let url = URL(fileURLWithPath: path)
        var problems: [String] = []
        do { manifest = try PreprocessedDataset(url).manifest } catch { problems.append("\(error)") }
        let reportURL = url.appendingPathComponent("report.json")
        if let data = try? Data(contentsOf: reportURL) {
            do { report = try JSONDecoder().decode(Report.self, from: data) } catch {
                problems.append("\(reportURL.path): not the expected JSON (\(error))")
            }
        } else {
            problems.append("\(reportURL.path) is missing")
        }
        problem = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }
}
