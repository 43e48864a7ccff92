// csm-bench audio: times the Audio module on inputs written by tools/bench/audio.py, which times Python on the same
// data and compares. One JSON line per measurement; the outputs are written for the comparison.
//
//   csm-bench audio resample IN.f32 RATE REPEATS OUT    raw float32 mono at RATE → 24 kHz, OUT.high / OUT.veryHigh
//   csm-bench audio load FILE REPEATS OUT.f32            decode + down-mix + resample (AudioFile.loadMono)
import ArgumentParser
import Audio
import Foundation

struct AudioBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audio", abstract: "Resampling and loading speed (tools/bench/audio.py).",
        subcommands: [Resample.self, Load.self])

    struct Resample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Raw float32 mono at RATE → 24 kHz, high and veryHigh quality.")
        @Argument(help: "Raw float32 mono samples.") var input: String
        @Argument(help: "Their sample rate.") var rate: Double
        @Argument(help: "Timed runs per quality.") var repeats: Int
        @Argument(help: "Output prefix: OUT.high and OUT.veryHigh get the resampled samples.") var output: String

        func run() throws {
            let samples = try readFloats(input)
            let audioSeconds = Double(samples.count) / rate
            for quality in [ResampleQuality.high, .veryHigh] {
                let runs = try measure(repeats) { try Resampler.resample(samples, from: rate, to: 24_000, quality: quality) }
                try writeFloats(runs.result, to: "\(output).\(quality.rawValue)")
                try report("resample", quality: quality, rate: rate, audioSeconds: audioSeconds, runs)
            }
        }
    }

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Decode + down-mix + resample to 24 kHz (AudioFile.loadMono).")
        @Argument(help: "An audio file.") var file: String
        @Argument(help: "Timed runs.") var repeats: Int
        @Argument(help: "Where the loaded samples go (raw float32).") var output: String

        func run() throws {
            let url = URL(fileURLWithPath: file)
            let info = try AudioFile.info(url)
            let runs = try measure(repeats) { try AudioFile.loadMono(url) }
            try writeFloats(runs.result, to: output)
            try report("load", quality: .high, rate: Double(info.sampleRate), audioSeconds: info.duration, runs)
        }
    }

    static func report<T>(_ what: String, quality: ResampleQuality, rate: Double, audioSeconds: Double, _ runs: Runs<T>) throws {
        try printJSON(["what": what, "quality": quality.rawValue, "rate": rate, "audio_s": audioSeconds,
                       "best_s": runs.best, "median_s": runs.median, "realtime_x": audioSeconds / runs.best])
    }
}
