import ArgumentParser
import Dataset
import Foundation
import Hub
import Torch

struct Preprocess: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess",
        abstract: "Turn a folder of conversations (wavs + scripts) into tokenized training samples.",
        discussion: """
            Input layout: INPUT/<language>/<conversation>/segments/vibevoice-podcast-script.txt with one \
            '[K]: text' line per segment, and NNN_speakerK.wav for line NNN. Folders starting with '_' are ignored. \
            Each kept segment becomes one sample whose context is up to --num_context_turns preceding kept \
            segments of its conversation. Bad input is skipped with a reason (see report.json in the output). \
            An interrupted run resumes where it stopped when started again with the same arguments.
            """
    )

    @Option(name: [.customLong("input_path"), .customLong("input-path")], help: "Raw dataset folder.")
    var inputPath: String

    @Option(name: [.customLong("output_path"), .customLong("output-path")], help: "Output folder.")
    var outputPath: String = "./preprocessed"

    @Option(name: [.customLong("model_id"), .customLong("model-id")],
            help: "CSM model folder or Hugging Face hub id (its tokenizer and Mimi codec are used).")
    var modelId: String = "unsloth/csm-1b"

    @Option(name: [.customLong("num_context_turns"), .customLong("num-context-turns")],
            help: "Preceding turns of the same conversation given as context to each sample.")
    var numContextTurns: Int = 3

    @Option(name: [.customLong("max_audio_seconds"), .customLong("max-audio-seconds")],
            help: "Skip segments longer than this.")
    var maxAudioSeconds: Double = 10.0

    @Option(name: [.customLong("min_audio_seconds"), .customLong("min-audio-seconds")],
            help: "Skip segments shorter than this.")
    var minAudioSeconds: Double = 0.5

    @Option(name: [.customLong("text_max_length"), .customLong("text-max-length")],
            help: "Skip segments whose text (without speaker tag, bos and eos) has more tokens than this.")
    var textMaxLength: Int = 256

    @Flag(help: "Replace an earlier run in --output_path made with other arguments or another model.")
    var overwrite = false

    /// The Mimi codec encodes on this device.
    @OptionGroup var placement: DeviceOptions

    func run() throws {
        let started = Date()
        let options = PreprocessOptions(inputPath: inputPath, modelId: modelId, numContextTurns: numContextTurns,
                                        maxAudioSeconds: maxAudioSeconds, minAudioSeconds: minAudioSeconds,
                                        textMaxLength: textMaxLength)
        try options.validate()
        let device = try placement.resolve()
        let folder = try ModelLocator.resolve(modelId)
        let preprocessor = Preprocessor(options: options, fingerprint: try Fingerprint.of(modelFolder: folder),
                                        tokenizer: try CSMTurnText(folder: folder),
                                        codec: try MimiSegmentEncoder(folder: folder, device: device))
        let report = try preprocessor.run(output: URL(fileURLWithPath: outputPath), overwrite: overwrite)
        print(report.summary(output: outputPath, contextTurns: numContextTurns,
                             seconds: Date().timeIntervalSince(started)))
        guard report.samples > 0 else {
            throw ValidationError("no segment of \(inputPath) could be used; every skip and its reason is in "
                + "\(outputPath)/report.json")
        }
    }
}
