// csm-bench torch: the cost of going through the C shim, next to tools/bench/torch_foundation.py (the same work
// through Python torch); scripts/bench_torch.sh runs both. One JSON line per measure:
//   {"name": ..., "value": ..., "unit": ..., "threads": ...}
import ArgumentParser
import Torch

struct TorchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "torch", abstract: "Shim overhead per op call, f32 matmul and AdamW steps (scripts/bench_torch.sh).")

    @OptionGroup var threads: ThreadsOption

    @Option(help: "Run only this measure (repeatable): \(measures.map(\.name).joined(separator: ", ")).")
    var only: [String] = []

    func run() throws {
        Runtime.tuneForTraining()  // what csm train does first, so the figures are csm train's
        threads.apply()
        for m in Self.measures where only.isEmpty || only.contains(m.name) {
            let value = (try m.run() * 1000).rounded() / 1000
            print("{\"name\": \"\(m.name)\", \"value\": \(value), \"unit\": \"\(m.unit)\", \"threads\": \(Runtime.threads)}")
        }
    }

    static var measures: [(name: String, unit: String, run: () throws -> Double)] {
        [
            ("add_1", "us/call", { try adds(1) }),
            ("add_16", "us/call", { try adds(16) }),
            ("matmul_f32_2048x2048x8192", "GFLOP/s", matmul),
            ("adamw_step_10M", "ms", { try adamW(fused: false) }),
            ("adamw_step_10M_fused", "ms", { try adamW(fused: true) }),
        ]
    }

    /// Best of `repeats` timings of `body`, after one warm-up run.
    static func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        return try measure(repeats, body).best
    }

    /// Per-call overhead: 10,000 out-of-place adds of tiny tensors (each result is allocated and freed), µs per call.
    static func adds(_ n: Int) throws -> Double {
        let calls = 10_000
        let a = try Tensor.ones([n]), b = try Tensor.ones([n])
        return try best(5) { for _ in 0 ..< calls { _ = try a + b } } / Double(calls) * 1e6
    }

    /// f32 matmul 2048x2048 @ 2048x8192 in GFLOP/s.
    static func matmul() throws -> Double {
        let (m, k, n) = (2048, 2048, 8192)
        Runtime.manualSeed(0)
        let a = try Tensor.randn([m, k]), b = try Tensor.randn([k, n])
        return 2.0 * Double(m * k * n) / (try best(3) { _ = try a.matmul(b) }) / 1e9
    }

    /// One AdamW step over 10M parameters in 100 tensors, in ms.
    static func adamW(fused: Bool) throws -> Double {
        Runtime.manualSeed(0)
        let params = try (0 ..< 100).map { i in (name: "p\(i)", tensor: try Tensor.randn([100_000]).requiresGrad(true)) }
        for p in params { try p.tensor.setGrad(Tensor.randn([100_000])) }
        let opt = try AdamW(params, lr: 1e-3, weightDecay: 0.01, fused: fused)
        return try best(5) { try opt.step() } * 1e3
    }
}
