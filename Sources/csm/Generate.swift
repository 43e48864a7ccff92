import ArgumentParser
import Audio
import ConsoleProgress
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

            --stream decodes the audio while it is generated, --chunk_frames frames (80 ms each) at a time, and \
            writes each chunk as soon as it is decoded: into the WAV (its header rewritten after every chunk, so \
            the file is a valid WAV of what has arrived at any moment), or, with --output -, as raw 16-bit \
            little-endian mono PCM at 24 kHz on stdout (e.g. `| aplay -f S16_LE -r 24000 -c 1`). The streamed \
            audio equals the whole-clip decode (within 1e-4 per sample); the time to the first audio is logged. \
            A streamed run that fails removes the partial WAV.
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

    @Option(help: "Where to write the 24 kHz WAV; - writes raw 16-bit little-endian PCM to stdout instead.")
    var output: String = "out.wav"

    @Flag(help: "Decode and write the audio while generating, --chunk_frames frames at a time (see the overview).")
    var stream = false

    @Option(name: [.customLong("chunk_frames"), .customLong("chunk-frames")],
            help: "With --stream: frames (80 ms each) decoded and written at a time.")
    var chunkFrames: Int = 1

    @Option(name: [.customLong("max_audio_seconds"), .customLong("max-audio-seconds")],
            help: "Longest audio to generate, in seconds (12.5 frames per second).")
    var maxAudioSeconds: Double = 10

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Random seed: the same seed, model and prompt give the same audio (default: a random one, printed).")
    var seed: UInt64?

    @OptionGroup var quantization: QuantizationOptions
    @OptionGroup var masking: SpeakerMaskingOption

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard text != nil || context != nil else { throw ValidationError("give --text, --context, or both") }
        guard maxAudioSeconds > 0, maxAudioSeconds.isFinite else {
            throw ValidationError("--max_audio_seconds must be > 0, got \(maxAudioSeconds)")
        }
        if let speaker, speaker < 0 { throw ValidationError("--speaker must be ≥ 0, got \(speaker)") }
        guard chunkFrames > 0 else { throw ValidationError("--chunk_frames must be ≥ 1, got \(chunkFrames)") }
    }

    /// `--output -`: raw PCM on stdout (so the summary goes to stderr).
    private var toStandardOutput: Bool { output == "-" }

    func run() throws {
        if !toStandardOutput { try OutputPath.checkFile(output, flag: "--output") }
        let (device, dtype) = try runtime.resolve(generation: true)
        let folder = try ModelLocator.resolve(modelId)
        let model: CSMForConditionalGeneration
        if let scheme = try quantization.scheme() {
            let start = Date()
            let report: ProjectionQuantizationReport
            (model, report) = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device, quantization: scheme)
            log(String(format: "[generate] loaded with %d projections quantized to %@ in %.1f s: %.1f → %.1f MB%@", report.quantized,
                       scheme.description, Date().timeIntervalSince(start), Double(report.bytesBefore) / 1e6,
                       Double(report.bytesAfter) / 1e6,
                       report.skipped.isEmpty ? "" : "; \(report.skipped.count) kept dense (shape unsupported by the kernel)"))
        } else {
            model = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device)
        }
        if let adapter {  // LoRA wraps the quantized projections, as in QLoRA
            let lora = try PEFTAdapter.load(URL(fileURLWithPath: adapter), into: model)
            log("[generate] adapter \(adapter): LoRA r=\(lora.rank), alpha=\(lora.alpha)")
        }
        let codec = try MimiModel.load(folder: folder, device: device)
        let layout = try TurnLayout(tokenizer: Tokenizer(folder: folder), maskSpeakerIds: masking.maskSpeakerIds)

        let prompt: GenerationPrompt
        if let context {
            prompt = try GenerationPrompt.load(folder: URL(fileURLWithPath: context), layout: layout, codec: codec,
                                               text: text, speaker: speaker)
        } else {
            prompt = try GenerationPrompt(text: text!, speaker: speaker ?? 0, layout: layout)
        }
        let settings = try sampling.settings(folder: folder)
        let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let options = Generator.Options(maxFrames: Generator.Options.frames(seconds: maxAudioSeconds),
                                        settings: settings, seed: seed)
        log("[generate] \(modelId) on \(device) (\(dtype)); prompt \(prompt.length) positions "
            + "(\(prompt.context.count) context turns); seed \(seed); top-k \(settings.backbone.topK), "
            + "temperature \(settings.backbone.temperature)")

        let generator = Generator(model: model)
        let progress = GenerationProgress(maxFrames: options.maxFrames)
        let (result, audio) = stream
            ? try generateStreaming(generator, prompt: prompt, options: options, codec: codec, progress: progress)
            : try generateThenDecode(generator, prompt: prompt, options: options, codec: codec, progress: progress)
        let total = progress.bar.elapsed
        if audio.replacedCodes > 0 {
            log("[generate] warning: \(audio.replacedCodes) codes outside the codec's range were decoded as 0")
        }
        let summary = String(format: "%.2f s of audio in %.2f s (real-time factor %.2f)", audio.seconds, total,
                             total / max(audio.seconds, 1e-9))
        if toStandardOutput {
            log("[generate] wrote \(audio.samples) samples of raw PCM to stdout: " + summary)
        } else {
            print("wrote \(URL(fileURLWithPath: output).path): " + summary)
        }
    }

    /// What either path reports: the audio's length and the codes the codec could not decode.
    private struct Written {
        var samples: Int
        var sampleRate: Int
        var replacedCodes: Int
        var seconds: Double { Double(samples) / Double(sampleRate) }
    }

    /// Generates every frame, then decodes the whole clip and writes it (atomically).
    private func generateThenDecode(_ generator: Generator, prompt: GenerationPrompt, options: Generator.Options,
                                    codec: MimiModel, progress: GenerationProgress) throws -> (Generator.Output, Written) {
        let result = try generator.generate(prompt, options: options, onFrame: progress.frame)
        progress.finish(result)
        let audio = try Speech.decode(result.audioFrames, codec: codec)
        if toStandardOutput {
            let writer = try WAVStreamWriter(.standardOutput, sampleRate: audio.sampleRate)
            try writer.append(audio.samples)
            try writer.finish()
        } else {
            let url = URL(fileURLWithPath: output)
            try OutputPath.makeFolder(for: url)
            try Speech.write(audio, to: url)
        }
        return (result, Written(samples: audio.samples.count, sampleRate: audio.sampleRate,
                                replacedCodes: audio.replacedCodes))
    }

    /// Decodes `--chunk_frames` frames at a time while generating and writes each chunk at once.
    private func generateStreaming(_ generator: Generator, prompt: GenerationPrompt, options: Generator.Options,
                                   codec: MimiModel, progress: GenerationProgress) throws -> (Generator.Output, Written) {
        let writer: WAVStreamWriter
        if toStandardOutput {
            writer = try WAVStreamWriter(.standardOutput, sampleRate: codec.config.samplingRate)
        } else {
            let url = URL(fileURLWithPath: output)
            try OutputPath.makeFolder(for: url)
            writer = try WAVStreamWriter(.file(url), sampleRate: codec.config.samplingRate)
        }
        var chunks = 0
        var firstAudio = Double.nan  // seconds from the start of generation to the first chunk written
        let speech = try SpeechStream(codec: codec, chunkFrames: chunkFrames) { samples in
            try writer.append(samples)
            chunks += 1
            if chunks == 1 {
                firstAudio = progress.bar.elapsed
                progress.bar.note(String(format: "[generate] first audio after %.3f s (%d-frame chunks, %.0f ms each)",
                                         firstAudio, chunkFrames, 1000 * Double(chunkFrames) / codec.config.frameRate))
            }
        }
        do {
            let result = try generator.generate(prompt, options: options, streamingTo: speech, onFrame: progress.frame)
            try writer.finish()
            progress.finish(result, extra: String(format: "; %d chunks streamed, first audio after %.3f s", chunks,
                                                  firstAudio))
            return (result, Written(samples: speech.samples, sampleRate: speech.sampleRate,
                                    replacedCodes: speech.replacedCodes))
        } catch {
            writer.abandon()
            throw error
        }
    }

    private func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// The progress of frame generation: frames made of at most `maxFrames`, frames per second, and the ETA were it to
/// run to `maxFrames` (an upper bound: the end-of-audio frame may come sooner). A bar on a terminal, a line every
/// few seconds in a log.
final class GenerationProgress {
    let bar = ProgressBar(style: .automatic, title: "generate", redrawEvery: 0.1, lineEvery: 5)
    let maxFrames: Int
    private var frames = 0

    init(maxFrames: Int) { self.maxFrames = maxFrames }

    func frame(_: [Int]) {
        frames += 1
        let rate = Double(frames) / max(bar.elapsed, 1e-9)
        let text = "\(frames)/\(maxFrames) frames · " + String(format: "%.1f frames/s", rate)
            + " · ETA ≤ \(ProgressBar.clock(Double(maxFrames - frames) / rate))"
        bar.update(fraction: Double(frames) / Double(maxFrames), text: text, line: "[generate] " + text, now: frames == 1)
    }

    func finish(_ result: Generator.Output, extra: String = "") {
        let seconds = bar.elapsed, count = result.frames.count
        bar.finish(String(format: "[generate] %d frames in %.2f s (%.1f frames/s)%@%@", count, seconds,
                          Double(count) / max(seconds, 1e-9),
                          result.stoppedAtEnd ? ", stopped at the end-of-audio frame" : "", extra))
    }
}
