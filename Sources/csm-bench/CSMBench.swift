// csm-bench: the Swift halves of the side-by-side benchmarks. scripts/bench*.sh and tools/bench/*.py run them
// next to the same work through Python (torch, transformers, PEFT, soxr, tokenizers); BENCHMARKS.md has the results.
import ArgumentParser

@main
struct CSMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csm-bench",
        abstract: "Benchmarks of csm-swift's parts, each the Swift side of a comparison with Python.",
        subcommands: [
            TorchBench.self, AudioBench.self, ForwardBackwardBench.self, GenerationBench.self, MimiBench.self, MimiStreamBench.self,
            TrainBench.self, TrainParityBench.self, DatasetBench.self, TokenizerBench.self, DevicesBench.self, WhisperBench.self, WavLMBench.self,
        ]
    )
}
