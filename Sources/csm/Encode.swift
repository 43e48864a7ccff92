import ArgumentParser
import Audio
import Foundation
import Hub
import Mimi
import Torch

/// `csm encode`: the Mimi codes CSM trains on for one audio file, as JSON (frames × codebooks).
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Print the Mimi codes of an audio file as JSON (frames × codebooks).",
        discussion: """
            The file is read with libsndfile (WAV/FLAC/OGG/MP3), down-mixed to mono and resampled to 24 kHz. \
            The codec is the checkpoint's `codec_model` (a CSM folder) or a standalone Mimi folder; \
            the number of codebooks is the CSM config's num_codebooks.
            """
    )

    @Option(name: [.customLong("model_id"), .customLong("model-id")],
            help: "CSM or Mimi model folder, or Hugging Face hub id.")
    var modelId: String = "unsloth/csm-1b"

    @Option(help: "Audio file to encode.")
    var input: String

    @OptionGroup var placement: DeviceOptions

    func run() throws {
        let device = try placement.resolve()
        let folder = try ModelLocator.resolve(modelId)
        let model = try MimiModel.load(folder: folder, device: device)
        let samples = try AudioFile.loadMono(URL(fileURLWithPath: input), sampleRate: model.config.samplingRate)
        guard !samples.isEmpty else { throw ValidationError("\(input): the file holds no audio samples") }
        let frames = try model.encode(segments: [samples])[0]
        print("[" + frames.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ",\n ") + "]")
    }
}
