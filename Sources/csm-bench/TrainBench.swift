// csm-bench train: LoRA training steps of `csm train`'s Trainer on one sample, next to tools/bench/train_step.py
// (transformers + PEFT); scripts/bench.sh alternates the two. Defaults are `csm train`'s. The first step is a
// warm-up; prints one JSON line (seconds per step, losses, peak RSS, and
// on CUDA the allocator's peak over the steps, as torch.cuda.max_memory_allocated after a reset).
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
    @Option(name: .customLong("recompute-mlp"), help: "csm train's --recompute_mlp: none, depth or all.") var recomputeMlp: String?
    @Option(help: "native or upcast: overrides the bf16 product chosen for this CPU (for measuring).") var product: FrozenProduct?
    @Option(help: "cpu, cuda, cuda:N or mps.") var device = "cpu"
    @Option(help: "Samples per step (copies of the sample).") var batch = 1

    func run() throws {
        Runtime.tuneForTraining()  // what csm train does first, so the figures are csm train's
        threads.apply()
        let sample = try loadSample(self.sample)
        let device = try Device.parse(self.device)
        let model = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: self.model), dtype: .f32, device: device)
        Runtime.manualSeed(0)
        var config = TrainConfig()
        config.baseDtype = baseDtype
        if let recomputeMlp { config.recomputeMlp = recomputeMlp }
        try config.applyMemorySettings(to: model, device: device, log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        if let product, config.baseDtype != "f32" { try model.storeDecoderLayers(as: .bf16, product: product) }
        try model.applyLoRA(LoRAConfig(rank: 32, alpha: 32))
        model.setTraining(true)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("train-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        config.preprocessedPath = "unused"
        config.outputDir = out.path
        config.batchSize = batch
        config.gradientAccumulationSteps = 1
        config.maxSteps = steps
        config.warmupSteps = 0
        config.lrSchedulerType = "constant"
        config.decoderFraction = decoderFraction
        config.saveEvery = 0
        config.genEvery = 0
        let trainer = try Trainer(config: config, model: model, parameters: model.loraParameters,
                                  train: Array(repeating: sample, count: batch),
                                  io: TrainerIO(saveWeights: { _ in }, loadWeights: { _ in }, log: { _ in }),
                                  order: { _ in [Array(0 ..< batch)] })
        // The peak of the steps, as tools/gpu_check/reference.py measures HF+PEFT's: loading (f32, then the
        // decoder layers narrowed to bf16) has a transient peak of its own that training never reaches again.
        Runtime.resetPeakMemory(on: device)
        _ = try trainer.run()
        let rows = try MetricsLog.read(out.appendingPathComponent("metrics.jsonl"))
        let times = rows.map { $0["s_per_step"] as! Double }
        try printJSON([
            "impl": "csm-swift", "decoder_fraction": decoderFraction, "threads": Runtime.threads, "device": "\(device)",
            "batch": batch, "peak_gpu_memory_bytes": device == .cpu ? -1 : Runtime.peakMemory(on: device).bytes ?? -1,
            "positions": sample.turns.reduce(0) { $0 + $1.textIds.count + $1.codes.count + 1 },
            "step_seconds": times, "s_per_step": times.dropFirst().reduce(0, +) / Double(max(times.count - 1, 1)),
            "losses": rows.map { $0["loss"] as! Double },
            "peak_rss_bytes": Runtime.peakResidentBytes ?? -1, "base_dtype": config.baseDtype ?? "bf16",
            "recompute_mlp": config.recomputeMlp,
            "product": product?.rawValue ?? (config.baseDtype == "f32" ? "f32" : FrozenProduct.fastest(on: device).rawValue),
        ])
    }
}
