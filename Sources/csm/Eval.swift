import ArgumentParser
import CSM
import Dataset
import Foundation
import Hub
import Tokenizer
import Torch

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Mean loss of a model or adapter on a preprocessed dataset, or (--speech) WER, CER and speaker similarity of what it says, as JSON.",
        discussion: """
            loss is the mean over samples of each sample's loss (backbone + depth decoder) as transformers' \
            CsmForConditionalGeneration computes it at batch size 1 with every frame labelled.

            --speech speaks --sentences held-out sentences (each sample's last turn with its context turns, chosen \
            with --seed; or the last line of a --gen_from folder, or of each of its subfolders), transcribes them \
            with --asr_model (language: the dataset's language folder) and embeds them with --speaker_model \
            (a WavLMForXVector checkpoint). Written to --output (default speech_eval/speech_eval.json) with the \
            wavs beside it: per sentence the transcript, WER, CER and the cosine similarity of its x-vector with \
            the mean of the speaker's reference x-vectors (recorded turns of that speaker in the sample, decoded by \
            the codec); overall WER and CER as jiwer aggregates a corpus (total edits / total reference words or \
            characters) and the mean similarity. Text is normalised first: lower-case, punctuation (Unicode \
            category P) removed, whitespace collapsed, numbers left as written.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")], help: "Model folder or Hugging Face hub id.")
    var modelId: String = "sesame/csm-1b"

    @Option(help: "PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors).")
    var adapter: String?

    @Option(name: [.customLong("preprocessed_path"), .customLong("preprocessed-path")],
            help: "Output folder of `csm preprocess`.")
    var preprocessedPath: String?

    @Option(help: "Write the JSON here as well as to standard output.")
    var output: String?

    @OptionGroup var masking: SpeakerMaskingOption

    @OptionGroup var speech: SpeechEvalOptions

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if speech.speech {
            guard (preprocessedPath == nil) != (speech.genFrom == nil) else {
                throw ValidationError("--speech needs one of --preprocessed_path and --gen_from")
            }
        } else if preprocessedPath == nil {
            throw ValidationError("--preprocessed_path is required (or --speech with --gen_from)")
        }
    }

    func run() throws {
        if speech.speech { return try runSpeech() }
        guard let preprocessedPath else { throw ValidationError("--preprocessed_path is required") }
        if let output { try OutputPath.checkFile(output, flag: "--output") }
        let (device, dtype) = try runtime.resolve()
        let dataset = try PreprocessedDataset(URL(fileURLWithPath: preprocessedPath))
        let folder = try ModelLocator.resolve(modelId)
        let model = try CSMForConditionalGeneration.load(folder: folder, dtype: dtype, device: device)
        if let adapter { try PEFTAdapter.load(URL(fileURLWithPath: adapter), into: model) }
        var speakerMasking = masking.maskSpeakerIds ? try SpeakerMasking(dataset: dataset, tokenizer: Tokenizer(folder: folder)) : nil
        let total = dataset.count
        let terminal = isatty(2) != 0
        let result = try model.evaluate(count: total, sample: {
            try speakerMasking?.sample($0, contextTurns: nil) ?? dataset.sample($0)
        }) { done in
            if terminal { FileHandle.standardError.write(Data("\reval: \(done)/\(total) samples".utf8)) }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(result)
        if let output {
            try OutputPath.makeFolder(for: URL(fileURLWithPath: output))
            try writeAtomically(json, to: URL(fileURLWithPath: output))
        }
        print(String(decoding: json, as: UTF8.self))
    }
}
