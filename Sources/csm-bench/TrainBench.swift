// csm-bench train: LoRA training steps of `csm train`'s Trainer, next to tools/bench/train_step.py
// (transformers + PEFT); scripts/bench.sh alternates the two. Defaults are `csm train`'s. The first step is a
// warm-up; prints one JSON line (seconds per step, tokens/s, losses, peak RSS, the f32 and bf16 GEMM rates
// measured in the same process, and on CUDA the allocator's peak over the steps, as
// torch.cuda.max_memory_allocated after a reset). `--profile` adds one more step under libtorch's profiler.
import ArgumentParser
import CSM
import Foundation
import Torch
import Training

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "LoRA training steps of csm train's Trainer on one sample (scripts/bench.sh).")

    @Argument(help: "CSM checkpoint folder.") var model: String
    @Argument(help: "Sample JSON, as for forward-backward.") var sample: String
    @Option(help: "Steps, the first a warm-up.") var steps = 4
    @Option(name: .customLong("decoder-fraction"), help: "csm train's --decoder_fraction.") var decoderFraction = 1.0
    @OptionGroup var threads: ThreadsOption
    @Option(name: .customLong("base-dtype"), help: "csm train's --base_dtype: bf16 or f32.") var baseDtype: String?
    @Option(name: .customLong("mixed-precision"), help: "csm train's --mixed_precision: auto, bf16 or no.") var mixedPrecision: String?
    @Option(name: .customLong("recompute-mlp"), help: "csm train's --recompute_mlp: none, depth or all.") var recomputeMlp: String?
    @Option(help: "native or upcast: overrides the bf16 product chosen for this CPU (for measuring).") var product: FrozenProduct?
    @Option(help: "cpu, cuda, cuda:N or mps.") var device = "cpu"
    @Option(name: [.customLong("batch-size"), .customLong("batch")], help: "Copies of the sample per batch (csm train's --batch_size).")
    var batchSize = 1
    @Option(help: "Batches per optimizer step (csm train's --gradient_accumulation_steps).") var accumulation = 1
    @Option(help: "After the timed steps, profile one more and write its Chrome trace here (tools/bench/profile_summary.py).")
    var profile: String?

    func run() throws {
        Runtime.tuneForTraining()  // what csm train does first, so the figures are csm train's
        threads.apply()
        let gemm = try gemmRates()
        let sample = try loadSample(self.sample)
        let device = try Device.parse(self.device)
        let model = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: self.model), dtype: .f32, device: device)
        Runtime.manualSeed(0)
        var config = TrainConfig()
        config.baseDtype = baseDtype
        if let mixedPrecision { config.mixedPrecision = mixedPrecision }
        if let recomputeMlp { config.recomputeMlp = recomputeMlp }
        try config.applyMemorySettings(to: model, device: device, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        if let product, config.baseDtype != "f32" { try model.storeDecoderLayers(as: .bf16, product: product) }
        try model.applyLoRA(LoRAConfig(rank: 32, alpha: 32))
        model.setTraining(true)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("train-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        config.preprocessedPath = "unused"
        config.outputDir = out.path
        config.batchSize = batchSize
        config.gradientAccumulationSteps = accumulation
        config.maxSteps = steps
        config.warmupSteps = 0
        config.lrSchedulerType = "constant"
        config.decoderFraction = decoderFraction
        config.saveEvery = 0
        config.genEvery = 0
        let train = [Sample](repeating: sample, count: batchSize * accumulation)
        let batches = (0 ..< accumulation).map { k in Array(k * batchSize ..< (k + 1) * batchSize) }
        let trainer = try Trainer(config: config, model: model, parameters: model.loraParameters, train: train,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in batches })
        // The peak of the steps, as tools/gpu_check/reference.py measures HF+PEFT's: loading (f32, then the
        // decoder layers narrowed to bf16) has a transient peak of its own that training never reaches again.
        Runtime.resetPeakMemory(on: device)
        _ = try trainer.run()
        let rows = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl"))
        let times = rows.map { $0["s_per_step"] as! Double }
        var fields: [String: Any] = [
            "impl": "csm-swift", "decoder_fraction": decoderFraction, "threads": Runtime.threads, "device": "\(device)",
            "batch": batchSize, "peak_gpu_memory_bytes": device == .cpu ? -1 : Runtime.peakMemory(on: device).bytes ?? -1,
            "positions": sample.turns.reduce(0) { $0 + $1.textIds.count + $1.codes.count + 1 },
            "frames": sample.turns.reduce(0) { $0 + $1.codes.count },
            "batch_size": batchSize, "accumulation": accumulation,
            "step_seconds": times, "s_per_step": times.dropFirst().reduce(0, +) / Double(max(times.count - 1, 1)),
            "tokens_per_s": rows.dropFirst().map { $0["tokens_per_s"] as? Double ?? 0 }.reduce(0, +) / Double(max(rows.count - 1, 1)),
            "losses": rows.map { $0["loss"] as! Double },
            "peak_rss_bytes": Runtime.peakResidentBytes ?? -1, "base_dtype": config.baseDtype ?? "bf16",
            "compute": model.computeDType == .bf16 ? "bf16" : "f32",
            "recompute_mlp": config.recomputeMlp,
            "product": product?.rawValue ?? (config.baseDtype == "f32" ? "f32" : FrozenProduct.fastest(on: device).rawValue),
            "gemm_gflops": gemm, "cpu_capability": Runtime.cpuCapability,
        ]
        if let profile { fields["profile"] = try profileOneStep(config: config, model: model, train: train, batches: batches, trace: profile) }
        try printJSON(fields)
    }

    /// One more step (a fresh optimizer, as step 1 of a run) under the profiler: its wall time and the page faults
    /// the process took during it, next to the trace.
    func profileOneStep(config: TrainConfig, model: CSMForConditionalGeneration, train: [Sample], batches: [[Int]],
                        trace: String) throws -> [String: Any] {
        var c = config
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("train-profile-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        c.outputDir = out.path
        c.maxSteps = 1
        let trainer = try Trainer(config: c, model: model, parameters: model.loraParameters, train: train,
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in batches })
        let before = pageFaults()
        let watch = Stopwatch()
        try Profiler.start(trace: URL(fileURLWithPath: trace))
        _ = try trainer.run()
        try Profiler.stop()
        let after = pageFaults()
        return ["trace": trace, "wall_seconds": watch.wall, "cpu_seconds": watch.cpu,
                "minor_faults": after.minor - before.minor, "major_faults": after.major - before.major]
    }
}

/// The process's minor and major page faults so far.
func pageFaults() -> (minor: Int, major: Int) {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return (usage.ru_minflt, usage.ru_majflt)
}

/// GFLOP/s of the backbone MLP's products as a LoRA step runs them, in f32 and in bf16 (the best of 3 after a
/// warm-up): the forward `x Wᵀ` (`linear`, W (8192, 2048) as stored) and the input gradient `g W` (`matmul` of
/// the same stored W), one of each, which is the step's GEMM work (4 × parameters × positions, half each): the
/// floor a training step is measured against, on this machine, now ("f32", "bf16"), plus each layout alone.
/// m grows from 8 to 2048 until one pair takes 0.2 s: libtorch's bf16 `g W` on a CPU without bf16 arithmetic
/// runs at ~0.3 GFLOP/s (its forward at ~20), so a full-size pair would take minutes there.
func gemmRates() throws -> [String: Double] {
    var rates = [String: Double]()
    for dtype in [DType.f32, .bf16] {
        let name = dtype == .f32 ? "f32" : "bf16"
        let w = try Tensor.randn([8192, 2048]).to(dtype)
        var m = 8, forward = 0.0, inputGrad = 0.0
        while true {
            let x = try Tensor.randn([m, 2048]).to(dtype), g = try Tensor.randn([m, 8192]).to(dtype)
            forward = try measure(m == 8 ? 1 : 3) { try x.linear(w) }.best
            inputGrad = try measure(m == 8 ? 1 : 3) { try g.matmul(w) }.best
            let pair = forward + inputGrad
            if pair >= 0.2 || m >= 2048 { break }
            m = min(2048, m * max(2, Int(0.2 / max(pair, 1e-4)) / 2))
        }
        let flops = 2 * Double(m) * 2048 * 8192 / 1e9
        rates[name] = 2 * flops / (forward + inputGrad)
        rates[name + "_forward"] = flops / forward
        rates[name + "_input_grad"] = flops / inputGrad
    }
    return rates
}
