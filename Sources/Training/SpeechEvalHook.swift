import CSM
import Dataset
import Foundation
import Mimi
import SpeechEvaluation
import Tokenizer
import Torch

/// `--eval_speech_every`: the ASR and speaker models, the codec and a fixed list of held-out sentences are loaded
/// once, at start-up, on the training device (a wrong --asr_model fails before step 1); every N steps the model
/// speaks the sentences and `speech_eval/step_XXXXXX/` gets the JSON of `csm eval --speech` and the wavs, while
/// the returned `speech_wer`, `speech_cer` and `speech_similarity` go to metrics.jsonl, TensorBoard, W&B and the
/// report.
final class SpeechEvalHook {
    static let folderName = "speech_eval"

    let evaluator: SpeechEvaluator
    let model: CSMForConditionalGeneration
    let outputDir: URL
    let log: (String) -> Void

    init(config: TrainConfig, model: CSMForConditionalGeneration, modelFolder: URL, dataset: PreprocessedDataset,
         candidates: [Int], device: Device, outputDir: URL, log: @escaping (String) -> Void) throws {
        let judges = try SpeechJudges.load(asrModel: config.asrModel, speakerModel: config.speakerModel,
                                           device: device, log: log)
        let codec = try MimiModel.load(folder: modelFolder, device: device)
        let sentences = try EvaluationSentence.from(preprocessed: dataset, tokenizer: Tokenizer(folder: modelFolder),
                                                    codec: codec, count: config.evalSpeechSentences,
                                                    seed: UInt64(bitPattern: Int64(config.seed)),
                                                    candidates: candidates, contextTurns: config.numContextTurns,
                                                    maskSpeakerIds: config.maskSpeakerIds)
        evaluator = SpeechEvaluator(codec: codec, judges: judges, sentences: sentences,
                                    settings: try GenerationSettings.load(folder: modelFolder),
                                    seed: UInt64(bitPattern: Int64(config.seed)))
        self.model = model
        self.outputDir = outputDir
        self.log = log
        log("[train] --eval_speech_every \(config.evalSpeechEvery): \(sentences.count) sentences "
            + "(\(candidates.count == dataset.count ? "all samples" : "validation samples")); judges hold "
            + String(format: "%.1f MB", Double(judges.parameterBytes) / 1_000_000) + " of weights on \(device)")
    }

    /// `TrainerIO.evaluateSpeech`.
    func evaluate(step: Int) throws -> [String: Double] {
        let folder = outputDir.appendingPathComponent(Self.folderName).appendingPathComponent(String(format: "step_%06d", step))
        let report = try evaluator.run(model: model, wavFolder: folder.appendingPathComponent("wavs"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try encoder.encode(report).write(to: folder.appendingPathComponent("speech_eval.json"), options: .atomic)
        var row: [String: Double] = [:]
        row["speech_wer"] = report.wer
        row["speech_cer"] = report.cer
        row["speech_similarity"] = report.similarity
        log("[train] step \(step): speech " + row.sorted { $0.key < $1.key }
            .map { "\($0.key.dropFirst(7)) \(String(format: "%.4f", $0.value))" }.joined(separator: ", "))
        return row
    }
}
