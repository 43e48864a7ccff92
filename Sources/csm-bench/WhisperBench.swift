// csm-bench whisper: Whisper transcription (features, encoder, greedy decoding, text) of all clips as one batch, next
// to transformers' WhisperFeatureExtractor + generate + batch_decode in tools/bench/whisper.py; scripts/bench_whisper.sh
// runs both. Prints one JSON line (seconds of audio, best wall and process CPU time) and writes the transcripts to
// CLIPS_DIR/swift_transcripts.json for the comparison.
import ArgumentParser
import Foundation
import Torch
import Whisper

struct WhisperBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whisper", abstract: "Whisper transcription throughput on float32 clips (scripts/bench_whisper.sh).")

    @Argument(help: "Whisper model folder.") var model: String
    @Argument(help: #"Holds clips.json ({"clips": ["000.f32", ...], "sample_rate": 16000}) and those float32 mono files."#)
    var clips: String
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Timed runs; the best counts.") var repeats = 2
    @Option(help: "Language code of the forced prompt, or \"detect\" (transformers' language=None).") var language = "en"

    func run() throws {
        threads.apply()
        struct Manifest: Decodable { let clips: [String]; let sample_rate: Int }
        let folder = URL(fileURLWithPath: self.clips)
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("clips.json")))
        let clips = try manifest.clips.map { try readFloats(folder.appendingPathComponent($0).path) }
        let transcriber = try WhisperTranscriber(folder: URL(fileURLWithPath: model))
        transcriber.batchSize = clips.count
        let seconds = Double(clips.map(\.count).reduce(0, +)) / Double(manifest.sample_rate)

        let language = self.language == "detect" ? nil : self.language
        _ = try transcriber.transcribe([clips[0]], sampleRate: manifest.sample_rate, language: language)  // warm-up
        let runs = try measure(repeats) { () -> ([[Int]], [String]) in
            let tokens = try transcriber.tokens(clips, sampleRate: manifest.sample_rate, language: language)
            return (tokens, tokens.map(transcriber.text.decode))
        }
        let (tokens, texts) = runs.result
        try JSONSerialization.data(withJSONObject: ["texts": texts, "tokens": tokens])
            .write(to: folder.appendingPathComponent("swift_transcripts.json"))
        try printJSON([
            "audio_seconds": seconds, "clips": clips.count, "threads": Runtime.threads, "language": self.language,
            "seconds": runs.best, "cpu_seconds": runs.bestCPU, "rtf": seconds / runs.best,
            "tokens": tokens.map(\.count).reduce(0, +),
            "parameter_bytes": transcriber.parameterBytes, "peak_rss_kib": residentKiB("VmHWM") ?? -1,
        ])
    }
}
