// csm-bench mimi: Mimi encode (all clips batched in one call) and decode on raw float32 clips, next to transformers'
// MimiModel in tools/bench/mimi.py; scripts/bench_mimi.sh runs both. Prints one JSON line: seconds of audio, best
// encode/decode wall and process CPU times, and writes the codes to CLIPS_DIR/swift_codes.json for the parity check.
import ArgumentParser
import Foundation
import Mimi
import Torch

struct MimiBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimi", abstract: "Mimi encode/decode throughput on float32 clips (scripts/bench_mimi.sh).")

    @Argument(help: "Mimi model folder.") var model: String
    @Argument(help: #"Holds clips.json ({"clips": ["000.f32", ...]}) and those little-endian float32 mono 24 kHz files."#)
    var clips: String
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Timed runs of each side; the best counts.") var repeats = 3

    func run() throws {
        threads.apply()
        struct Manifest: Decodable { let clips: [String] }
        let folder = URL(fileURLWithPath: self.clips)
        let names = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: folder.appendingPathComponent("clips.json"))).clips
        let clips = try names.map { try readFloats(folder.appendingPathComponent($0).path) }
        let model = try MimiModel.load(folder: URL(fileURLWithPath: self.model))
        let seconds = Double(clips.map(\.count).reduce(0, +)) / Double(model.config.samplingRate)

        _ = try model.encode(segments: [Array(clips[0].prefix(24_000))])  // warm-up (kernels, allocator)
        let encode = try measure(repeats) { try model.encode(segments: clips) }
        let codes = encode.result
        let codeTensors = try codes.map { frames in
            try Tensor(frames.flatMap { $0 }, shape: [frames.count, frames[0].count]).transpose(0, 1).unsqueeze(0)
        }
        let decode = try measure(repeats) { for c in codeTensors { _ = try model.decode(c) } }

        try JSONSerialization.data(withJSONObject: ["codes": codes]).write(to: folder.appendingPathComponent("swift_codes.json"))
        try printJSON([
            "audio_seconds": seconds, "clips": clips.count, "threads": Runtime.threads,
            "encode_seconds": encode.best, "decode_seconds": decode.best,
            "encode_cpu_seconds": encode.bestCPU, "decode_cpu_seconds": decode.bestCPU,
            "encode_rtf": seconds / encode.best, "decode_rtf": seconds / decode.best,
        ])
    }
}
