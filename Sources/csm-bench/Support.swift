// What several benchmarks share: timing, resident memory, JSON lines, raw float32 files, sample JSON, --threads.
import ArgumentParser
import CSM
import Foundation
import Torch

/// Wall-clock and process CPU seconds since it was made. CPU time stays meaningful when other jobs share the cores.
struct Stopwatch {
    private let wallStart = Stopwatch.now(CLOCK_MONOTONIC), cpuStart = Stopwatch.now(CLOCK_PROCESS_CPUTIME_ID)
    var wall: Double { Stopwatch.now(CLOCK_MONOTONIC) - wallStart }
    var cpu: Double { Stopwatch.now(CLOCK_PROCESS_CPUTIME_ID) - cpuStart }

    private static func now(_ clock: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(clock, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}

/// The wall and CPU seconds of each timed run, and the last run's result.
struct Runs<Result> {
    var wall: [Double], cpu: [Double], result: Result
    var best: Double { wall.min()! }
    var bestCPU: Double { cpu.min()! }
    var median: Double { wall.sorted()[wall.count / 2] }
}

/// Times `body` `repeats` times (at least once).
func measure<T>(_ repeats: Int, _ body: () throws -> T) rethrows -> Runs<T> {
    try measure(repeats, before: {}, body)
}

/// Times `body` `repeats` times (at least once); `before` runs untimed ahead of each run.
func measure<T>(_ repeats: Int, before: () throws -> Void, _ body: () throws -> T) rethrows -> Runs<T> {
    var wall: [Double] = [], cpu: [Double] = [], result: T?
    for _ in 0 ..< max(repeats, 1) {
        try before()
        let watch = Stopwatch()
        result = try body()
        wall.append(watch.wall)
        cpu.append(watch.cpu)
    }
    return Runs(wall: wall, cpu: cpu, result: result!)
}

/// A size of /proc/self/status in KiB: "VmHWM" (peak resident set) or "VmRSS" (current); nil off Linux.
func residentKiB(_ field: String) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
    return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
}

/// One JSON object on one line, keys sorted.
func printJSON(_ fields: [String: Any]) throws {
    print(String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self))
}

/// Raw little-endian float32 samples, as tools/bench/*.py write them with numpy's tofile.
func readFloats(_ path: String) throws -> [Float] {
    try Data(contentsOf: URL(fileURLWithPath: path)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
}

func writeFloats(_ samples: [Float], to path: String) throws {
    try samples.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
}

/// A training sample as tools/bench/*.py write it:
/// {"turns": [{"speaker": 0, "text_ids": [...], "codes": [[...K codes], ...]}]}.
func loadSample(_ path: String) throws -> Sample {
    struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
    struct SampleJSON: Decodable { let turns: [TurnJSON] }
    let json = try JSONDecoder().decode(SampleJSON.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    return Sample(turns: json.turns.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) })
}

/// `--threads N`: libtorch's CPU threads (default: libtorch's choice).
struct ThreadsOption: ParsableArguments {
    @Option(help: "CPU threads for libtorch (default: libtorch's choice).")
    var threads: Int?

    func apply() {
        if let threads { Runtime.threads = threads }
    }
}

/// The dtype a `--dtype` names: f32, bf16 or f16 (or any other spelling `DType(name:)` takes for them).
func floatDType(_ name: String) throws -> DType {
    guard let dtype = DType(name: name), dtype.isFloatingPoint else { throw ValidationError("--dtype \(name): use f32, bf16 or f16") }
    return dtype
}

extension FrozenProduct: ExpressibleByArgument {}
