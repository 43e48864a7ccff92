// csm-bench generation: frames per second and real-time factor of `Generator` on a CSM folder (random weights do:
// no early stop), on the prompt tools/bench/generation.py gives transformers; scripts/bench_generation.sh runs both.
// `--batch N`: N requests at once through `BatchGenerator` (prompts of different lengths, one seed each), total frames/s.
import ArgumentParser
import CSM
import Foundation
import Torch

struct GenerationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generation", abstract: "Generation speed on a fixed prompt (scripts/bench_generation.sh).")

    @Option(help: "CSM model folder.") var model: String
    @Option(help: "Frames to generate (12.5 per second of audio).") var frames = 125
    @Option(help: "Weight and compute dtype: f32 or bf16.") var dtype = "f32"
    @OptionGroup var threads: ThreadsOption
    @Option(help: "cpu, cuda, cuda:N or mps.") var device = "cpu"
    @Option(help: "Weight-only quantized projections: int8 or int4 (default: none).") var quantize: String?
    @Option(name: [.customLong("group_size"), .customLong("group-size")], help: "int4 group size.") var groupSize = 64
    @Option(name: .customLong("prompt-ids"), help: "Comma-separated text ids (default: <bos>, 30 fixed ids, <eos>).")
    var promptIds: String?
    @Flag(help: "Greedy decoding (argmax in both decoders) instead of top-k 50 at temperature 0.9.") var greedy = false
    @Flag(help: "One JSON line with the timings and the generated codes instead of the sentence.") var json = false
    @Option(help: "Concurrent requests through BatchGenerator (row i: the prompt less 2·i text ids, seed i); default: one request through Generator.")
    var batch: Int?
    @Option(help: "Profile the frames after the first (prefills excluded) into this Chrome trace (tools/bench/profile_summary.py --ops).")
    var profile: String?

    func run() throws {
        threads.apply()
        let dtype = try floatDType(self.dtype)
        // The same ids as tools/bench/generation.py: `<bos>` + 30 fixed text ids + `<eos>`.
        let defaultIds: [Int] = [128_000] + (0 ..< 30).map { ($0 * 7919) % 30_000 + 1000 } + [128_001]
        let textIds: [Int] = try promptIds.map(Self.ids) ?? defaultIds

        let load = Stopwatch()
        let folder = URL(fileURLWithPath: model), device = try Device.parse(self.device)
        let csm: CSMForConditionalGeneration
        var label = "\(dtype)"
        if let quantize {
            let scheme = try WeightQuantization(name: quantize, groupSize: groupSize)
            let report: ProjectionQuantizationReport
            (csm, report) = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device, quantization: scheme)
            label += " " + (scheme == .int8 ? "int8" : "int4/g\(groupSize)") + " (\(report.quantized) projections"
                + (report.skipped.isEmpty ? ")" : ", \(report.skipped.count) kept dense)")
        } else {
            csm = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device)
        }
        let loadSeconds = load.wall
        let settings = greedy ? GenerationSettings(backbone: .greedy, depthDecoder: .greedy) : GenerationSettings()
        if let batch { return try runBatch(csm, rows: batch, textIds: textIds, settings: settings, label: label, loadSeconds: loadSeconds) }
        let options = Generator.Options(maxFrames: frames, settings: settings, seed: 0)
        var firstFrame: Double?
        let watch = Stopwatch()
        let output = try Generator(model: csm).generate(GenerationPrompt(textIds: textIds), options: options) { _ in
            if firstFrame == nil {
                firstFrame = watch.wall
                if let profile { try Profiler.start(trace: URL(fileURLWithPath: profile)) }
            }
        }
        let seconds = watch.wall
        if profile != nil { try Profiler.stop() }
        let n = output.frames.count
        let audioSeconds = Double(n) / Generator.Options.framesPerSecond
        if json {
            try printJSON(["impl": "csm-swift", "device": self.device, "dtype": "\(dtype)", "greedy": greedy, "frames": n,
                           "seconds": seconds, "frames_per_s": Double(n) / seconds,
                           "first_frame_seconds": firstFrame ?? seconds, "load_seconds": loadSeconds, "codes": output.frames])
            return
        }
        print(String(format: "swift: dtype %@ threads %d: %d frames in %.2f s (load %.1f s, prefill+first frame %.2f s): "
                     + "%.2f frames/s, real-time factor %.2f%@", label, Runtime.threads, n, seconds, loadSeconds,
                     firstFrame ?? seconds, Double(n) / seconds, seconds / audioSeconds,
                     output.stoppedAtEnd ? " (stopped early at an all-zero frame)" : ""))
    }

    static func ids(_ list: String) throws -> [Int] {
        try list.split(separator: ",").map {
            guard let id = Int($0) else { throw ValidationError("--prompt-ids: '\($0)' is not an id") }
            return id
        }
    }

    /// `rows` requests joined at once (their prefills timed apart), stepped together to `frames` frames each.
    func runBatch(_ csm: CSMForConditionalGeneration, rows: Int, textIds: [Int], settings: GenerationSettings,
                  label: String, loadSeconds: Double) throws {
        let generator = try BatchGenerator(model: csm, maxRows: rows, maxPositions: textIds.count + frames)
        let watch = Stopwatch()
        for r in 0 ..< rows {
            let ids = [textIds[0]] + textIds.dropFirst().dropLast().dropLast(min(2 * r, textIds.count - 3)) + [textIds.last!]
            _ = try generator.join(GenerationPrompt(textIds: Array(ids)),
                                   options: .init(maxFrames: frames, settings: settings, seed: UInt64(r)))
        }
        let prefill = watch.wall
        var made = 0, firstFrame: Double?
        while generator.activeCount > 0 {
            made += try generator.step().count
            if firstFrame == nil {
                firstFrame = watch.wall
                if let profile { try Profiler.start(trace: URL(fileURLWithPath: profile)) }
            }
        }
        let seconds = watch.wall, stepping = seconds - prefill
        if profile != nil { try Profiler.stop() }
        print(String(format: "swift: dtype %@ threads %d batch %d: %d frames in %.2f s (load %.1f s, prefills %.2f s, "
                     + "prefills+first frames %.2f s): %.2f frames/s in all, %.2f frames/s after the prefills, "
                     + "%.2f frames/s per request", label, Runtime.threads, rows, made, seconds, loadSeconds, prefill,
                     firstFrame ?? seconds, Double(made) / seconds, Double(made) / stepping,
                     Double(made) / Double(rows) / seconds))
    }
}
