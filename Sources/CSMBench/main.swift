// csm-bench: one LoRA forward+backward of a CSM checkpoint on one sample, for scripts/bench_csm.sh.
// Usage: csm-bench MODEL_DIR SAMPLE_JSON [--threads N] [--repeats N] [--rank R] [--dtype f32|bf16]
// SAMPLE_JSON: {"turns": [{"speaker": 0, "text_ids": [...], "codes": [[...K codes], ...]}]}.
// Prints one JSON object: seconds per forward+backward (best and first), loss, peak RSS.
import CSM
import Foundation
import Torch

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("csm-bench: \(message)\n".utf8))
    exit(1)
}

var args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    defer { args.removeSubrange(i...(i + 1)) }
    return args[i + 1]
}
let threads = option("--threads").flatMap(Int.init)
let repeats = option("--repeats").flatMap(Int.init) ?? 2
let rank = option("--rank").flatMap(Int.init) ?? 32
let dtype = DType(name: option("--dtype") ?? "f32") ?? .f32
guard args.count == 2 else { fail("usage: csm-bench MODEL_DIR SAMPLE_JSON [--threads N] [--repeats N] [--rank R] [--dtype D]") }
if let threads { Runtime.threads = threads }

/// User + system CPU seconds of this process so far.
func cpuSeconds() -> Double {
    var u = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &u)
    #else
    getrusage(RUSAGE_SELF, &u)
    #endif
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

/// Peak (VmHWM) or current (VmRSS) resident set size of this process, in bytes (Linux; -1 elsewhere).
func rss(_ field: String = "VmHWM:") -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
          let kb = Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") else { return -1 }
    return kb * 1024
}

struct TurnJSON: Decodable { let speaker: Int, text_ids: [Int], codes: [[Int]] }
struct SampleJSON: Decodable { let turns: [TurnJSON] }

do {
    let json = try JSONDecoder().decode(SampleJSON.self, from: Data(contentsOf: URL(fileURLWithPath: args[1])))
    let sample = Sample(turns: json.turns.map { Turn(speaker: $0.speaker, textIds: $0.text_ids, codes: $0.codes) })
    let model = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: args[0]), dtype: dtype)
    Runtime.manualSeed(0)
    try model.applyLoRA(LoRAConfig(rank: rank, alpha: 32), dtype: dtype)
    let batch = try CSMBatch(samples: [sample], config: model.config)
    var times = [Double](), cpu = [Double](), loss = 0.0
    for _ in 0..<repeats {
        for (_, t) in model.loraParameters { try t.setGrad(nil) }
        let start = Date(), startCPU = cpuSeconds()
        let l = try model.loss(batch).loss.total()
        try l.backward()
        times.append(Date().timeIntervalSince(start))
        cpu.append(cpuSeconds() - startCPU)
        loss = try l.item()
    }
    let report: [String: Any] = [
        "impl": "csm-swift", "threads": Runtime.threads, "dtype": "\(dtype)", "positions": batch.length,
        "frames": sample.frameCount, "lora_params": model.loraParameters.reduce(0) { $0 + $1.tensor.count },
        "first_seconds": times[0], "best_seconds": times.min()!, "best_cpu_seconds": cpu.min()!, "loss": loss,
        "peak_rss_bytes": rss(), "rss_after_bytes": rss("VmRSS:"),
    ]
    print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
} catch {
    fail("\(error)")
}
