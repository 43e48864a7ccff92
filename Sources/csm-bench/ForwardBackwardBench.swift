// csm-bench forward-backward: one LoRA forward+backward of a CSM checkpoint on one sample, next to
// tools/bench/csm_forward_backward.py (transformers + PEFT); scripts/bench_csm.sh runs both.
// Prints one JSON line: seconds per forward+backward (best and first), loss, peak RSS.
import ArgumentParser
import CSM
import Foundation
import Torch

struct ForwardBackwardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward-backward", abstract: "LoRA forward+backward of a CSM checkpoint on one sample (scripts/bench_csm.sh).")

    @Argument(help: "CSM checkpoint folder.") var model: String
    @Argument(help: #"Sample JSON: {"turns": [{"speaker": 0, "text_ids": [...], "codes": [[...K codes], ...]}]}."#)
    var sample: String
    @OptionGroup var threads: ThreadsOption
    @Option(help: "Timed forward+backward passes.") var repeats = 2
    @Option(help: "LoRA rank (alpha 32).") var rank = 32
    @Option(help: "Weight and compute dtype: f32 or bf16.") var dtype = "f32"

    func run() throws {
        Runtime.tuneForTraining()  // what csm train does first, so the figures are csm train's
        threads.apply()
        let dtype = try floatDType(self.dtype)
        let sample = try loadSample(self.sample)
        let model = try CSMForConditionalGeneration.load(folder: URL(fileURLWithPath: self.model), dtype: dtype)
        Runtime.manualSeed(0)
        try model.applyLoRA(LoRAConfig(rank: rank, alpha: 32), dtype: dtype)
        let batch = try CSMBatch(samples: [sample], config: model.config)
        let runs = try measure(repeats, before: { for (_, t) in model.loraParameters { try t.setGrad(nil) } }) {
            let loss = try model.loss(batch).loss.total()
            try loss.backward()
            return loss
        }
        try printJSON([
            "impl": "csm-swift", "threads": Runtime.threads, "dtype": "\(dtype)", "positions": batch.length,
            "frames": sample.frameCount, "lora_params": model.loraParameters.reduce(0) { $0 + $1.tensor.count },
            "first_seconds": runs.wall[0], "best_seconds": runs.best, "best_cpu_seconds": runs.bestCPU,
            "loss": try runs.result.item(),
            "peak_rss_bytes": Runtime.peakResidentBytes ?? -1, "rss_after_bytes": residentKiB("VmRSS").map { $0 * 1024 } ?? -1,
        ])
    }
}
