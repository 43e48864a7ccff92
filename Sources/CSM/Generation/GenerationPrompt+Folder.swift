import Audio
import Foundation
import Mimi
import Tokenizer

extension GenerationPrompt {
    /// Start-up check for `--gen_from` (the trainer calls it so a bad folder fails before step 1, not at
    /// the first sample): the script parses, every context line has its audio and every audio file opens.
    public static func validateFolder(_ url: URL) throws {
        let folder = try ContextFolder(url)
        for line in folder.context {
            do { _ = try AudioFile.info(line.audio!) } catch {
                throw GenerationError.badContextFolder("context line \(line.number): \(error)")
            }
        }
    }

    /// The prompt of a context folder: its context lines (text through the chat template, audio through
    /// Mimi, each file encoded on its own) and its last line, or `text`/`speaker` in place of the last line's.
    public static func load(folder url: URL, layout: TurnLayout, codec: MimiModel, text: String? = nil,
                            speaker: Int? = nil) throws -> GenerationPrompt {
        let folder = try ContextFolder(url)
        var audio = [[Float]]()
        for line in folder.context {
            let samples = try AudioFile.loadMono(line.audio!, sampleRate: codec.config.samplingRate)
            guard !samples.isEmpty else {
                throw GenerationError.badContextFolder("\(line.audio!.path) holds no audio samples")
            }
            audio.append(samples)
        }
        let codes = audio.isEmpty ? [] : try codec.encode(segments: audio)
        let context = zip(folder.context, codes).map { line, frames in
            Turn(speaker: line.speaker, textIds: layout.textIds(speaker: line.speaker, text: line.text), codes: frames)
        }
        return try GenerationPrompt(context: context, text: text ?? folder.target.text,
                                    speaker: speaker ?? folder.target.speaker, layout: layout)
    }

    /// A prompt from context turns and the line to speak, tokenized as `CsmProcessor` does.
    public init(context: [Turn] = [], text: String, speaker: Int, layout: TurnLayout) throws {
        guard speaker >= 0 else { throw GenerationError.invalidSetting("speaker id must be ≥ 0, got \(speaker)") }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw GenerationError.invalidSetting("the text to speak is empty")
        }
        self.init(context: context, textIds: layout.textIds(speaker: speaker, text: text))
    }
}
