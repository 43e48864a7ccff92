// csm-bench wavlm: WavLM x-vectors of float32 clips (resampled to 16 kHz, batched longest first), next to
// transformers' WavLMForXVector in tools/bench/wavlm.py; scripts/bench_wavlm.sh runs both. Prints one JSON line
// (seconds of audio, best wall and process CPU time) and writes the embeddings to CLIPS_DIR/swift_xvectors.json for
// the comparison.
import ArgumentParser
import Foundation
import Torch
import WavLM

struct WavLMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wavlm", abstract: "WavLM x-vector throughput on float32 clips (scripts/bench_wavlm.sh).")

    @Argument(help: "WavLMForXVector model folder.") var model: String
    @Argument(help: #"Holds clips.json ({"clips": ["000.f32", ...]}) and those little-endian float32 mono files."#)
    var clips: String
    @Option(name: .customLong("sample_rate"), help: "Sample rate of the clips.") var sampleRate = 24_000
    @Option(name: .customLong("max_batch_seconds"), help: "Padded seconds (at 16 kHz) per batch (default: SpeakerEncoder's).")
    var maxBatchSeconds: Double?
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Timed runs; the best counts.") var repeats = 3

    func run() throws {
        threads.apply()
        struct Manifest: Decodable { let clips: [String] }
        let folder = URL(fileURLWithPath: self.clips)
        let names = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("clips.json"))).clips
        let clips = try names.map { try readFloats(folder.appendingPathComponent($0).path) }
        let load = Stopwatch()
        let encoder = try SpeakerEncoder(folder: URL(fileURLWithPath: model))
        let loadSeconds = load.wall
        if let maxBatchSeconds { encoder.maxBatchSamples = Int(maxBatchSeconds * Double(encoder.preprocessing.samplingRate)) }
        let seconds = Double(clips.map(\.count).reduce(0, +)) / Double(sampleRate)

        _ = try encoder.embed([Array(clips[0].prefix(sampleRate))], sampleRate: sampleRate)  // warm-up
        let runs = try measure(repeats) { try encoder.embed(clips, sampleRate: sampleRate) }
        try JSONSerialization.data(withJSONObject: ["xvectors": runs.result])
            .write(to: folder.appendingPathComponent("swift_xvectors.json"))
        try printJSON([
            "audio_seconds": seconds, "clips": clips.count, "threads": Runtime.threads, "load_seconds": loadSeconds,
            "embed_seconds": runs.best, "embed_cpu_seconds": runs.bestCPU, "rtf": seconds / runs.best,
            "parameter_mb": Double(encoder.parameterBytes) / 1_000_000,
            "max_batch_seconds": Double(encoder.maxBatchSamples) / Double(encoder.preprocessing.samplingRate),
        ])
    }
}
