import Audio
import Foundation
@testable import Dataset

/// Token ids that depend on the text and speaker; `tokenCount` counts words, so limits are easy to hit.
struct FakeTokenizer: TurnTextEncoder {
    func turnIds(speaker: Int, text: String) throws -> [Int] {
        [1000] + "[\(speaker)]\(text)".unicodeScalars.map { Int($0.value) % 900 } + [1001]
    }
    func tokenCount(_ text: String) throws -> Int { text.split(separator: " ").count }
}

/// Codes that identify the clip: every code of a frame is `round(peak × 100) + codebook`, so a test knows
/// which wav a turn's codes came from (each test wav has its own amplitude). Records its calls.
final class FakeCodec: SegmentEncoder {
    let numCodebooks = 4
    let frameSize = 1920
    func frames(forSamples samples: Int) -> Int { (samples + frameSize - 1) / frameSize }
    var calls: [[Int]] = []

    func encode(_ clips: [[Float]]) throws -> [[[Int]]] {
        calls.append(clips.map(\.count))
        return clips.map { clip in
            let peak = clip.reduce(Float(0)) { max($0, abs($1)) }
            let frames = (clip.count + frameSize - 1) / frameSize
            return [[Int]](repeating: (0 ..< numCodebooks).map { Int((peak * 100).rounded()) + $0 }, count: frames)
        }
    }
}

/// Builds raw datasets in a temporary folder, in the seed's layout.
struct TestCorpus {
    let root: URL

    init(_ name: String = #function) throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("csm-dataset-\(name.filter(\.isLetter))-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    /// The `segments/` folder of `language/name` (created).
    @discardableResult
    func segments(_ language: String, _ name: String) throws -> URL {
        let url = root.appendingPathComponent(language).appendingPathComponent(name).appendingPathComponent("segments")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func script(_ language: String, _ name: String, _ text: String) throws {
        try script(language, name, Data(text.utf8))
    }

    func script(_ language: String, _ name: String, _ data: Data) throws {
        try data.write(to: try segments(language, name).appendingPathComponent(Scanner.scriptName))
    }

    /// A sine of `seconds` at `peak` amplitude (the fake codec's code is `peak × 100`).
    func wav(_ language: String, _ name: String, _ file: String, seconds: Double, peak: Float,
             rate: Int = 24_000, channels: Int = 1) throws {
        let n = Int(seconds * Double(rate))
        var samples = [Float](repeating: 0, count: n * channels)
        for i in 0 ..< n {
            let v = peak * sin(Float(i) * 2 * .pi * 220 / Float(rate))
            for c in 0 ..< channels { samples[i * channels + c] = v }
        }
        try WAVWriter.write(samples, sampleRate: rate, channels: channels, encoding: .float32,
                            to: try segments(language, name).appendingPathComponent(file))
    }

    /// A conversation whose every line and wav is fine: `peaks[i]` is segment i+1's amplitude.
    func good(_ language: String, _ name: String, peaks: [Float], seconds: Double = 1.0) throws {
        var lines: [String] = []
        for (i, peak) in peaks.enumerated() {
            let speaker = i % 2 + 1
            lines.append("[\(speaker)]: line \(i + 1) of \(name)")
            try wav(language, name, String(format: "%03d_speaker%d.wav", i + 1, speaker), seconds: seconds, peak: peak)
        }
        try script(language, name, lines.joined(separator: "\n") + "\n")
    }
}

func makePreprocessor(_ corpus: TestCorpus, codec: FakeCodec = FakeCodec(), contextTurns: Int = 3,
                      maxSeconds: Double = 3.0, textMax: Int = 20,
                      fingerprint: Fingerprint = Fingerprint(tokenizer: "t", codec: "c")) -> Preprocessor {
    let options = PreprocessOptions(inputPath: corpus.root.path, modelId: "test/fake", numContextTurns: contextTurns,
                                    maxAudioSeconds: maxSeconds, minAudioSeconds: 0.5, textMaxLength: textMax)
    let p = Preprocessor(options: options, fingerprint: fingerprint, tokenizer: FakeTokenizer(), codec: codec)
    p.progressStyle = .silent
    return p
}

/// Every file under `folder` (relative path → bytes).
func snapshot(_ folder: URL) throws -> [String: Data] {
    var out: [String: Data] = [:]
    let base = folder.standardizedFileURL.path
    guard let walker = FileManager.default.enumerator(atPath: base) else { return out }
    for case let path as String in walker {
        var isDir: ObjCBool = false
        let full = base + "/" + path
        if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
            out[path] = try Data(contentsOf: URL(fileURLWithPath: full))
        }
    }
    return out
}
