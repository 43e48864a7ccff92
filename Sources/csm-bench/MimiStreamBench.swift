// csm-bench mimi-stream: Mimi decode of one clip's codes as a stream (`MimiStreamingDecoder`, N frames per chunk)
// against the whole-clip `MimiModel.decode`: time to first audio, per-chunk cost, total, and the largest difference
// between the two outputs. Swift only (the comparison is with ourselves); BENCHMARKS.md "Streaming" has the figures.
import ArgumentParser
import Foundation
import Mimi
import Torch

struct MimiStreamBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mimi-stream", abstract: "Streaming vs whole-clip Mimi decode: time to first audio, per-chunk cost.")

    @Argument(help: "Mimi model folder, or a CSM folder (its codec).") var model: String
    @Option(help: "Frames to decode (12.5 per second of audio).") var frames = 125
    @Option(name: [.customLong("chunk_frames"), .customLong("chunk-frames")], parsing: .upToNextOption,
            help: "Frames per chunk; one JSON line each.")
    var chunkFrames: [Int] = [1, 2, 5]
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Timed runs of each; the best counts.") var repeats = 3

    func run() throws {
        threads.apply()
        let model = try MimiModel.load(folder: URL(fileURLWithPath: self.model))
        // Seeded random codes: decode cost does not depend on the values.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let values = (0..<(model.numCodebooks * frames)).map { _ -> Int64 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int64((state >> 33) % UInt64(model.config.codebookSize))
        }
        let codes = try Tensor(values, shape: [1, model.numCodebooks, frames])
        let audioSeconds = Double(frames) / model.config.frameRate
        _ = try model.decode(codes.slice(2, 0, min(frames, 4)))  // warm-up (kernels, allocator)
        let offline = try measure(repeats) { try model.decode(codes) }
        try printJSON(["mode": "offline", "frames": frames, "audio_seconds": audioSeconds, "threads": Runtime.threads,
                       "seconds": offline.best, "cpu_seconds": offline.bestCPU, "rtf": audioSeconds / offline.best])
        for chunk in chunkFrames where chunk > 0 {
            var chunkSeconds: [Double] = []
            let streamed = try measure(repeats) { () -> Tensor in
                let stream = try MimiStreamingDecoder(model: model)
                var pieces: [Tensor] = []
                chunkSeconds = []
                for start in stride(from: 0, to: frames, by: chunk) {
                    let watch = Stopwatch()
                    pieces.append(try stream.decode(codes.slice(2, start, min(start + chunk, frames))))
                    chunkSeconds.append(watch.wall)
                }
                return try Tensor.cat(pieces, dim: 2)
            }
            let difference = try (streamed.result - offline.result).abs().max().item() as Double
            let sorted = chunkSeconds.sorted()
            try printJSON([
                "mode": "stream", "frames": frames, "chunk_frames": chunk, "chunks": chunkSeconds.count,
                "threads": Runtime.threads, "seconds": streamed.best, "cpu_seconds": streamed.bestCPU,
                "rtf": audioSeconds / streamed.best, "vs_offline": streamed.best / offline.best,
                "first_chunk_seconds": chunkSeconds[0], "median_chunk_seconds": sorted[sorted.count / 2],
                "max_chunk_seconds": sorted.last!, "chunk_audio_seconds": Double(chunk) / model.config.frameRate,
                "max_abs_difference": difference,
            ])
        }
    }
}
