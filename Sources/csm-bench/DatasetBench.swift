// csm-bench dataset: peak memory and time of `Preprocessor` on a generated dataset of a chosen scale, in a process
// of its own (VmHWM is per process). The Dataset tests run it at scales 1 and 8 to check that memory does not grow
// with the dataset; BENCHMARKS.md uses it with --model for the real tokenizer and Mimi.
import ArgumentParser
import Audio
import Dataset
import Foundation

struct DatasetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset", abstract: "Peak memory and time of csm preprocess on a generated dataset.")

    @Option(help: "Multiplies the conversations.") var scale = 1
    @Option(help: "Conversations at scale 1.") var conversations = 3
    @Option(help: "Segments per conversation.") var segments = 10
    @Option(help: "Seconds per segment (sines).") var seconds = 3.0
    @Option(help: "A CSM folder: its tokenizer and Mimi instead of stand-ins that cost nothing.") var model: String?
    @Option(name: .customLong("batch-seconds"), help: "Audio per Mimi batch (csm preprocess's default if unset).")
    var batchSeconds: Double?

    func run() throws {
        let conversations = self.conversations * scale
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: work) }
        let root = work.appendingPathComponent("raw")
        try writeDataset(to: root, conversations: conversations)

        let options = PreprocessOptions(inputPath: root.path, modelId: model ?? "peak-codec")
        let preprocessor: Preprocessor
        if let model {
            let folder = URL(fileURLWithPath: model)
            preprocessor = Preprocessor(options: options, fingerprint: try Fingerprint.of(modelFolder: folder),
                                        tokenizer: try CSMTurnText(folder: folder), codec: try MimiSegmentEncoder(folder: folder))
        } else {
            preprocessor = Preprocessor(options: options, fingerprint: Fingerprint(tokenizer: "bytes", codec: "peak"),
                                        tokenizer: ByteTokenizer(), codec: PeakCodec())
        }
        preprocessor.progressStyle = .silent
        if let batchSeconds { preprocessor.batchSamples = Int(batchSeconds * 24_000) }
        // Forget the dataset generation's peak: measure the preprocessing alone (model loading included).
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let watch = Stopwatch()
        let report = try preprocessor.run(output: work.appendingPathComponent("out"))
        let elapsed = watch.wall
        print("{\"scale\": \(scale), \"conversations\": \(conversations), \"segments\": \(report.segmentsKept), "
            + "\"audio_seconds\": \(report.audioSeconds), \"seconds\": \(elapsed), \"peak_rss_kib\": \(residentKiB("VmHWM") ?? -1)}")
    }

    /// Conversations of `segments` sines in the seed's layout, one wav written at a time.
    func writeDataset(to root: URL, conversations: Int) throws {
        for c in 0 ..< conversations {
            let folder = root.appendingPathComponent("en/conversation_\(String(format: "%04d", c))/segments")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var script = ""
            for s in 1 ... segments {
                let speaker = s % 2 + 1
                script += "[\(speaker)]: Segment \(s) of conversation \(c) says a few words.\n"
                let f = Float(110 + 20 * (s % 7))
                let samples = (0 ..< Int(seconds * 24_000)).map { 0.3 * sin(Float($0) * 2 * .pi * f / 24_000) }
                try WAVWriter.write(samples, sampleRate: 24_000, encoding: .float32,
                                    to: folder.appendingPathComponent(String(format: "%03d_speaker%d.wav", s, speaker)))
            }
            try script.write(to: folder.appendingPathComponent(Scanner.scriptName), atomically: true, encoding: .utf8)
        }
    }
}

/// Ids from the text's bytes; word count as token count. Stands in for the tokenizer when no --model is given.
private struct ByteTokenizer: TurnTextEncoder {
    func turnIds(speaker: Int, text: String) throws -> [Int] { [1000] + "[\(speaker)]\(text)".utf8.map(Int.init) + [1001] }
    func tokenCount(_ text: String) throws -> Int { text.split(separator: " ").count }
}

/// Codes from each frame's peak: touches every sample like a real codec, costs nothing.
private struct PeakCodec: SegmentEncoder {
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
