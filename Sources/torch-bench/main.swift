// torch-bench: the cost of going through the C shim, next to tools/bench/torch_foundation.py
// (the same work through Python torch). Prints one JSON object per measure:
//   {"name": ..., "value": ..., "unit": ...}
// Usage: torch-bench [--threads N] [--only NAME]...
import Foundation
import Torch

var threads: Int? = nil
var only: Set<String> = []
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let arg = arguments.next() {
    switch arg {
    case "--threads": threads = arguments.next().flatMap { Int($0) }
    case "--only": arguments.next().map { only.insert($0) }
    default:
        FileHandle.standardError.write("usage: torch-bench [--threads N] [--only NAME]...\n".data(using: .utf8)!)
        exit(2)
    }
}
if let threads { Runtime.threads = threads }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Best of `repeats` timings of `body`, after one warm-up run.
func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    return try (0..<repeats).map { _ in try seconds(body) }.min()!
}

/// Per-call overhead: 10,000 out-of-place adds of tiny tensors (each result is allocated and freed).
func adds(_ n: Int) throws -> Double {
    let calls = 10_000
    let a = try Tensor.ones([n]), b = try Tensor.ones([n])
    return try best(5) { for _ in 0..<calls { _ = try a + b } } / Double(calls) * 1e6
}

/// f32 matmul 2048x2048 @ 2048x8192 in GFLOP/s.
func matmul() throws -> Double {
    let (m, k, n) = (2048, 2048, 8192)
    Runtime.manualSeed(0)
    let a = try Tensor.randn([m, k]), b = try Tensor.randn([k, n])
    return 2.0 * Double(m * k * n) / (try best(3) { _ = try a.matmul(b) }) / 1e9
}

/// One AdamW step over 10M parameters in 100 tensors, in ms.
func adamW(fused: Bool) throws -> Double {
    Runtime.manualSeed(0)
    let params = try (0..<100).map { i in (name: "p\(i)", tensor: try Tensor.randn([100_000]).requiresGrad(true)) }
    for p in params { try p.tensor.setGrad(Tensor.randn([100_000])) }
    let opt = try AdamW(params, lr: 1e-3, weightDecay: 0.01, fused: fused)
    return try best(5) { try opt.step() } * 1e3
}

let measures: [(name: String, unit: String, run: () throws -> Double)] = [
    ("add_1", "us/call", { try adds(1) }),
    ("add_16", "us/call", { try adds(16) }),
    ("matmul_f32_2048x2048x8192", "GFLOP/s", matmul),
    ("adamw_step_10M", "ms", { try adamW(fused: false) }),
    ("adamw_step_10M_fused", "ms", { try adamW(fused: true) }),
]

for m in measures where only.isEmpty || only.contains(m.name) {
    let value = (try m.run() * 1000).rounded() / 1000
    print("{\"name\": \"\(m.name)\", \"value\": \(value), \"unit\": \"\(m.unit)\", \"threads\": \(Runtime.threads)}")
}
