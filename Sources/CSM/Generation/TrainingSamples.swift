import Foundation
import Mimi
import Tokenizer

/// Speaks the last line of a `--gen_from` folder with the model being trained and writes
/// `outputDir/gen_step_XXXXXX.wav`. The model is left as found: adapter dropout is switched off while
/// generating and restored after; no gradient is recorded; libtorch's random state is untouched (the
/// sampler has its own seeded stream, so the same seed at every step shows how the voice changes).
public func generateSample(model: CSMForConditionalGeneration, codec: MimiModel, tokenizer: Tokenizer, genFrom: URL,
                           step: Int, outputDir: URL, seed: UInt64, settings: GenerationSettings = GenerationSettings(),
                           maxAudioSeconds: Double = 10) throws -> URL {
    let prompt = try GenerationPrompt.load(folder: genFrom, layout: TurnLayout(tokenizer: tokenizer), codec: codec)
    return try generateSample(model: model, codec: codec, prompt: prompt, step: step, outputDir: outputDir, seed: seed,
                              settings: settings, maxAudioSeconds: maxAudioSeconds)
}

func generateSample(model: CSMForConditionalGeneration, codec: MimiModel, prompt: GenerationPrompt, step: Int,
                    outputDir: URL, seed: UInt64, settings: GenerationSettings, maxAudioSeconds: Double) throws -> URL {
    let adapters = model.loraAdapters.map(\.lora)
    let wasTraining = adapters.map(\.training)
    model.setTraining(false)
    defer { for (lora, on) in zip(adapters, wasTraining) { lora.training = on } }
    let options = Generator.Options(maxFrames: Generator.Options.frames(seconds: maxAudioSeconds), settings: settings,
                                    seed: seed)
    let output = try Generator(model: model).generate(prompt, options: options)
    let url = outputDir.appendingPathComponent(String(format: "gen_step_%06d.wav", step))
    try Speech.write(Speech.decode(output.audioFrames, codec: codec), to: url)
    return url
}

/// The trainer's `--gen_every` hook. The codec, tokenizer and the encoded context are loaded at the first
/// sample (not at start-up: a run that never reaches `gen_every` never pays for them) and then reused.
public final class TrainingSampleWriter {
    let model: CSMForConditionalGeneration
    let modelFolder: URL, genFrom: URL, outputDir: URL
    let seed: UInt64
    /// The run trains with `--mask_speaker_ids`: the sample's prompt without the `[K]` prefix, as it trains.
    let maskSpeakerIds: Bool
    private var loaded: (codec: MimiModel, prompt: GenerationPrompt, settings: GenerationSettings)?

    public init(model: CSMForConditionalGeneration, modelFolder: URL, genFrom: URL, outputDir: URL, seed: UInt64,
                maskSpeakerIds: Bool = false) {
        self.model = model
        self.maskSpeakerIds = maskSpeakerIds
        self.modelFolder = modelFolder
        self.genFrom = genFrom
        self.outputDir = outputDir
        self.seed = seed
    }

    /// `TrainerIO.generate`.
    public var hook: (Int) throws -> URL { { try self.write(step: $0) } }

    public func write(step: Int) throws -> URL {
        if loaded == nil {
            let codec = try MimiModel.load(folder: modelFolder, device: model.device)
            let layout = try TurnLayout(tokenizer: Tokenizer(folder: modelFolder), maskSpeakerIds: maskSpeakerIds)
            loaded = (codec, try GenerationPrompt.load(folder: genFrom, layout: layout, codec: codec),
                      try GenerationSettings.load(folder: modelFolder))
        }
        let (codec, prompt, settings) = loaded!
        return try generateSample(model: model, codec: codec, prompt: prompt, step: step, outputDir: outputDir,
                                  seed: seed, settings: settings, maxAudioSeconds: 10)
    }
}
