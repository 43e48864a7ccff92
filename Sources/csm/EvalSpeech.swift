import ArgumentParser
import CSM
import Dataset
import Foundation
import Hub
import Mimi
import SpeechEvaluation
import Tokenizer
import Torch

/// `csm eval --speech`'s options.
struct SpeechEvalOptions: ParsableArguments {
    @Flag(help: "Speak held-out sentences and report WER, CER and speaker similarity instead of the loss.")
    var speech = false

    @Option(name: [.customLong("gen_from"), .customLong("gen-from")],
            help: "With --speech: a folder in the --gen_from layout (its last line is the sentence), or a folder of such folders.")
    var genFrom: String?

    @Option(name: [.customLong("asr_model"), .customLong("asr-model")],
            help: "ASR model folder or hub id for WER/CER (e.g. openai/whisper-base).")
    var asrModel: String?

    @Option(name: [.customLong("speaker_model"), .customLong("speaker-model")],
            help: "WavLMForXVector folder or hub id for speaker similarity (e.g. microsoft/wavlm-base-plus-sv).")
    var speakerModel: String?

    @Option(help: "Held-out sentences to speak from --preprocessed_path (all when fewer).")
    var sentences: Int = 20

    @Option(help: "Seed of the sentence choice and of sampling (sentence i is sampled with seed + i).")
    var seed: UInt64 = 0

    @Option(help: "With --gen_from: the language the ASR model is told (default: detect).")
    var language: String?

    @Option(name: [.customLong("max_audio_seconds"), .customLong("max-audio-seconds")],
            help: "Longest audio generated per sentence.")
    var maxAudioSeconds: Double = 10
}

extension Eval {
    func runSpeech() throws {
        let jsonPath = output ?? "speech_eval/speech_eval.json"
        try OutputPath.checkFile(jsonPath, flag: "--output")
        guard speech.sentences > 0 else { throw ValidationError("--sentences must be positive") }
        let (device, dtype) = try runtime.resolve(generation: true)
        let log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        // The judges first: a wrong --asr_model/--speaker_model fails before the CSM model loads.
        let judges = try SpeechJudges.load(asrModel: speech.asrModel, speakerModel: speech.speakerModel,
                                           device: device, log: log)
        let folder = try ModelLocator.resolve(modelId)
        let model = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device)
        if let adapter { try PEFTAdapter.load(URL(fileURLWithPath: adapter), into: model) }
        let codec = try MimiModel.load(folder: folder, device: device)
        let tokenizer = try Tokenizer(folder: folder)
        let sentences: [EvaluationSentence]
        if let genFrom = speech.genFrom {
            sentences = try EvaluationSentence.from(genFrom: URL(fileURLWithPath: genFrom),
                                                    layout: TurnLayout(tokenizer: tokenizer, maskSpeakerIds: masking.maskSpeakerIds),
                                                    codec: codec,
                                                    language: speech.language)
        } else {
            let dataset = try PreprocessedDataset(URL(fileURLWithPath: preprocessedPath!))
            try dataset.requireFingerprint(Fingerprint.of(modelFolder: folder), modelId: modelId)
            sentences = try EvaluationSentence.from(preprocessed: dataset, tokenizer: tokenizer, codec: codec,
                                                    count: speech.sentences, seed: speech.seed,
                                                    maskSpeakerIds: masking.maskSpeakerIds)
        }
        let evaluator = SpeechEvaluator(codec: codec, judges: judges, sentences: sentences,
                                        settings: try GenerationSettings.load(folder: folder), seed: speech.seed,
                                        maxAudioSeconds: speech.maxAudioSeconds)
        let jsonURL = URL(fileURLWithPath: jsonPath)
        let terminal = isatty(2) != 0
        let report = try evaluator.run(model: model, wavFolder: jsonURL.deletingLastPathComponent()
            .appendingPathComponent("wavs")) { done in
            if terminal { FileHandle.standardError.write(Data("\rspeech: \(done)/\(sentences.count) sentences".utf8)) }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let json = try encoder.encode(report)
        try OutputPath.makeFolder(for: jsonURL)
        try writeAtomically(json, to: jsonURL)
        func show(_ v: Double?) -> String { v.map { String(format: "%.4f", $0) } ?? "n/a" }
        log("[speech] \(sentences.count) sentences: WER \(show(report.wer)), CER \(show(report.cer)), "
            + "similarity \(show(report.similarity)); wrote \(jsonURL.path) and wavs/")
    }
}
