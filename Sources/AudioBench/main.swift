// audio-bench: times the Audio module on inputs written by tools/bench/audio.py (which times Python on the same
// data and compares). Prints one JSON object per measurement.
//
//   audio-bench resample IN.f32 RATE REPEATS OUT      raw float32 mono at RATE → 24 kHz, OUT.high / OUT.veryHigh
//   audio-bench load FILE REPEATS OUT.f32              decode + down-mix + resample (AudioFile.loadMono)
import Audio
import Foundation

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Runs `body` `repeats` times; returns the fastest and median wall-clock seconds and the last result.
func time<T>(_ repeats: Int, _ body: () throws -> T) rethrows -> (best: Double, median: Double, result: T) {
    var times: [Double] = []
    var result: T?
    let clock = ContinuousClock()
    for _ in 0 ..< repeats {
        let start = clock.now
        result = try body()
        times.append(seconds(clock.now - start))
    }
    times.sort()
    return (times[0], times[times.count / 2], result!)
}

func readF32(_ path: String) throws -> [Float] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func writeF32(_ samples: [Float], _ path: String) throws {
    try samples.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
}

func report(_ fields: [String: Any]) {
    let json = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
}

let arguments = CommandLine.arguments
do {
    switch arguments.dropFirst().first {
    case "resample" where arguments.count == 6:
        let input = try readF32(arguments[2])
        let rate = Double(arguments[3])!
        let repeats = Int(arguments[4])!
        let audioSeconds = Double(input.count) / rate
        for quality in [ResampleQuality.high, .veryHigh] {
            let run = try time(repeats) { try Resampler.resample(input, from: rate, to: 24_000, quality: quality) }
            try writeF32(run.result, "\(arguments[5]).\(quality.rawValue)")
            report(["what": "resample", "quality": quality.rawValue, "rate": rate, "audio_s": audioSeconds,
                    "best_s": run.best, "median_s": run.median, "realtime_x": audioSeconds / run.best])
        }
    case "load" where arguments.count == 5:
        let url = URL(fileURLWithPath: arguments[2])
        let info = try AudioFile.info(url)
        let run = try time(Int(arguments[3])!) { try AudioFile.loadMono(url) }
        try writeF32(run.result, arguments[4])
        report(["what": "load", "quality": "high", "rate": Double(info.sampleRate), "audio_s": info.duration,
                "best_s": run.best, "median_s": run.median, "realtime_x": info.duration / run.best])
    default:
        FileHandle.standardError.write(Data("usage: audio-bench resample IN.f32 RATE REPEATS OUT | load FILE REPEATS OUT.f32\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("audio-bench: \(error)\n".utf8))
    exit(1)
}
