import ArgumentParser
import CSM
import Foundation
import Hub
import Mimi
import Tokenizer
import Torch

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Speak a line of text with a base or fine-tuned model.",
        discussion: """
            The model is a base model, a base model plus --adapter (a PEFT LoRA folder, e.g. the output of \
            `csm train`), or a merged/fully fine-tuned folder. --context DIR takes a folder in the --gen_from \
            layout (segments/script.txt with "[K]: text" lines, K = 1, 2, … and segments/segment_NNNN_speakerK.wav): \
            every line but the last is a context turn (text + recording); the last line is spoken unless --text \
            is given. Sampling defaults come from the model's generation_config.json (CSM-1B: top-k 50, \
            temperature 0.9, for the backbone and the depth decoder); --temperature/--topk set both. \
            Generation stops at the end-of-audio frame or after --max_audio_seconds.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Model folder or Hugging Face hub id.")
    var modelId: String = "unsloth/csm-1b"

    @Option(help: "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors).")
    var adapter: String?

    @Option(help: "The text to speak (default: the last line of --context).")
    var text: String?

    @Option(help: "Speaker id as the model sees it: 0 for the script's [1], 1 for [2], … (default: the last line's, else 0).")
    var speaker: Int?

    @Option(help: "Context folder in the --gen_from layout.")
    var context: String?

    @Option(help: "Where to write the 24 kHz WAV.")
    var output: String = "out.wav"

    @Option(name: [.customLong("max_audio_seconds"), .customLong("max-audio-seconds")],
            help: "Longest audio to generate, in seconds (12.5 frames per second).")
    var maxAudioSeconds: Double = 10

    @Option(help: "Sampling temperature (default: generation_config.json, else 0.9).")
    var temperature: Double?

    @Option(name: [.customLong("topk"), .customLong("top_k"), .customLong("top-k")],
            help: "Top-k filter; 1 is greedy (default: generation_config.json, else 50).")
    var topk: Int?

    @Option(help: "Random seed: the same seed, model and prompt give the same audio (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "Weight-only quantized backbone and depth-decoder projections: int8 (per-channel) or int4 (group-wise, CPU only); quantized at load.")
    var quantize: String?

    @Option(name: [.customLong("group_size"), .customLong("group-size")],
            help: "Group size of --quantize int4: 32, 64, 128 or 256.")
    var groupSize: Int = Int4Linear.defaultGroupSize

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard text != nil || context != nil else { throw ValidationError("give --text, --context, or both") }
        guard maxAudioSeconds > 0, maxAudioSeconds.isFinite else {
            throw ValidationError("--max_audio_seconds must be > 0, got \(maxAudioSeconds)")
        }
        if let speaker, speaker < 0 { throw ValidationError("--speaker must be ≥ 0, got \(speaker)") }
        if let quantize {
            do { _ = try WeightQuantization(name: quantize, groupSize: groupSize) } catch let e as TorchError {
                throw ValidationError("--quantize/--group_size: \(e.message)")
            }
        }
    }

    func run() throws {
        try OutputPath.checkFile(output, flag: "--output")
        let (device, dtype) = try runtime.resolve(bf16WhereFast: true)
        let folder = try ModelLocator.resolve(modelId)
        let model = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device)
        if let adapter {
            let lora = try PEFTAdapter.load(URL(fileURLWithPath: adapter), into: model)
            log("[generate] adapter \(adapter): LoRA r=\(lora.rank), alpha=\(lora.alpha)")
        }
        if let quantize {
            let scheme = try WeightQuantization(name: quantize, groupSize: groupSize)
            let start = Date()
            let report = try model.quantizeProjections(scheme)
            log(String(format: "[generate] quantized %d projections to %@ in %.1f s: %.1f → %.1f MB%@", report.quantized,
                       scheme.description, Date().timeIntervalSince(start), Double(report.bytesBefore) / 1e6,
                       Double(report.bytesAfter) / 1e6,
                       report.skipped.isEmpty ? "" : "; \(report.skipped.count) kept dense (shape unsupported by the kernel)"))
        }
        let codec = try MimiModel.load(folder: folder, device: device)
        let layout = try TurnLayout(tokenizer: Tokenizer(folder: folder))

        let prompt: GenerationPrompt
        if let context {
            prompt = try GenerationPrompt.load(folder: URL(fileURLWithPath: context), layout: layout, codec: codec,
                                               text: text, speaker: speaker)
        } else {
            prompt = try GenerationPrompt(text: text!, speaker: speaker ?? 0, layout: layout)
        }
        let settings = try GenerationSettings.load(folder: folder).overriding(temperature: temperature, topK: topk)
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let options = Generator.Options(maxFrames: Generator.Options.frames(seconds: maxAudioSeconds),
                                        settings: settings, seed: seed)
        log("[generate] \(modelId) on \(device) (\(dtype)); prompt \(prompt.length) positions "
            + "(\(prompt.context.count) context turns); seed \(seed); top-k \(settings.backbone.topK), "
            + "temperature \(settings.backbone.temperature)")

        let start = Date()
        let result = try Generator(model: model).generate(prompt, options: options)
        let generated = Date().timeIntervalSince(start)
        let audio = try Speech.decode(result.audioFrames, codec: codec)
        let total = Date().timeIntervalSince(start)
        if audio.replacedCodes > 0 {
            log("[generate] warning: \(audio.replacedCodes) codes outside the codec's range were decoded as 0")
        }
        let url = URL(fileURLWithPath: output)
        try OutputPath.makeFolder(for: url)
        try Speech.write(audio, to: url)
        let frames = result.frames.count
        log(String(format: "[generate] %d frames in %.2f s (%.1f frames/s)%@", frames, generated,
                   Double(frames) / max(generated, 1e-9), result.stoppedAtEnd ? ", stopped at the end-of-audio frame" : ""))
        print(String(format: "wrote %@: %.2f s of audio in %.2f s (real-time factor %.2f)", url.path, audio.seconds,
                     total, total / max(audio.seconds, 1e-9)))
    }

    private func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
