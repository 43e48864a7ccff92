// dataset-bench: peak memory and time of `Preprocessor` on a generated dataset of a chosen scale, in a process of
// its own (VmHWM is per process). The Dataset tests run it at scales 1 and 8 to check that memory does not grow
// with the dataset; BENCHMARKS.md uses it with --model for the real tokenizer and Mimi.
//
//   dataset-bench --scale 8 [--conversations 3] [--segments 10] [--seconds 3] [--model FOLDER] [--batch-seconds S]
import Dataset
import Foundation
import Audio

/// Ids from the text's bytes; word count as token count. Stands in for the tokenizer when no --model is given.
struct ByteTokenizer: TurnTextEncoder {
    func turnIds(speaker: Int, text: String) throws -> [Int] { [1000] + "[\(speaker)]\(text)".utf8.map(Int.init) + [1001] }
    func tokenCount(_ text: String) throws -> Int { text.split(separator: " ").count }
}

/// Codes from each frame's peak: touches every sample like a real codec, costs nothing.
struct PeakCodec: SegmentEncoder {
    let numCodebooks = 32
    func frames(forSamples samples: Int) -> Int { (samples + 1919) / 1920 }
    func encode(_ clips: [[Float]]) throws -> [[[Int]]] {
        clips.map { clip in
            stride(from: 0, to: clip.count, by: 1920).map { start in
                let peak = clip[start ..< min(start + 1920, clip.count)].reduce(Float(0)) { max($0, abs($1)) }
                return [Int](repeating: Int(peak * 1000) % 2048, count: 32)
            }
        }
    }
}

func option(_ name: String) -> String? {
    guard let i = CommandLine.arguments.firstIndex(of: "--\(name)"), i + 1 < CommandLine.arguments.count else { return nil }
    return CommandLine.arguments[i + 1]
}

func peakRSSKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? -1
}

let scale = Int(option("scale") ?? "1") ?? 1
let conversations = (Int(option("conversations") ?? "3") ?? 3) * scale
let segments = Int(option("segments") ?? "10") ?? 10
let seconds = Double(option("seconds") ?? "3") ?? 3
let work = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-bench-\(getpid())")
defer { try? FileManager.default.removeItem(at: work) }

// The dataset: conversations of `segments` sines, one wav written at a time.
let root = work.appendingPathComponent("raw")
for c in 0 ..< conversations {
    let folder = root.appendingPathComponent("en/conversation_\(String(format: "%04d", c))/segments")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var script = ""
    for s in 1 ... segments {
        let speaker = s % 2 + 1
        script += "[\(speaker)]: Segment \(s) of conversation \(c) says a few words.\n"
        let n = Int(seconds * 24_000)
        let f = Float(110 + 20 * (s % 7))
        let samples = (0 ..< n).map { 0.3 * sin(Float($0) * 2 * .pi * f / 24_000) }
        try WAVWriter.write(samples, sampleRate: 24_000, encoding: .float32,
                            to: folder.appendingPathComponent(String(format: "%03d_speaker%d.wav", s, speaker)))
    }
    try script.write(to: folder.appendingPathComponent(Scanner.scriptName), atomically: true, encoding: .utf8)
}

let options = PreprocessOptions(inputPath: root.path, modelId: option("model") ?? "peak-codec")
let preprocessor: Preprocessor
if let model = option("model") {
    let folder = URL(fileURLWithPath: model)
    preprocessor = Preprocessor(options: options, fingerprint: try Fingerprint.of(modelFolder: folder),
                                tokenizer: try CSMTurnText(folder: folder), codec: try MimiSegmentEncoder(folder: folder))
} else {
    preprocessor = Preprocessor(options: options, fingerprint: Fingerprint(tokenizer: "bytes", codec: "peak"),
                                tokenizer: ByteTokenizer(), codec: PeakCodec())
}
preprocessor.progressStyle = .silent
if let seconds = option("batch-seconds").flatMap(Double.init) { preprocessor.batchSamples = Int(seconds * 24_000) }
// Forget the dataset generation's peak: measure the preprocessing alone (model loading included).
try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
let start = Date()
let report = try preprocessor.run(output: work.appendingPathComponent("out"))
let elapsed = Date().timeIntervalSince(start)
print("{\"scale\": \(scale), \"conversations\": \(conversations), \"segments\": \(report.segmentsKept), "
    + "\"audio_seconds\": \(report.audioSeconds), \"seconds\": \(elapsed), \"peak_rss_kib\": \(peakRSSKiB())}")
